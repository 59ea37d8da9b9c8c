import { describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { resolveTokenConfig, tokenConfigFromEnv } from './token-config.loader.js';
import { envVariableOf } from './env-origins.js';

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

describe('configuration mistakes in plain words, with their environment variables', () => {
  it('names the variable that set a value, the one to add for a missing option, and a JSON value as one variable', () => {
    const config = tokenConfigFromEnv({
      TOKEN__PROVIDERS__Kling__TYPE: 'jwt',
      TOKEN__PROVIDERS__Kling__BASE_URLS: '["not a url"]',
    });
    expect(envVariableOf(config, ['providers', 'kling', 'type'])).toBe('TOKEN__PROVIDERS__Kling__TYPE');
    expect(envVariableOf(config, ['providers', 'kling', 'secretKey'])).toBe(
      'TOKEN__PROVIDERS__Kling__SECRET_KEY',
    );
    expect(envVariableOf(config, ['providers', 'kling', 'baseUrls', 0])).toBe(
      'TOKEN__PROVIDERS__Kling__BASE_URLS',
    );
    expect(envVariableOf({ providers: {} }, ['providers', 'kling'])).toBeUndefined();
  });

  it('providers from the environment handed to forRoot keep their variables; an unknown option is named', () => {
    const { providers } = tokenConfigFromEnv({
      TOKEN__PROVIDERS__KLING__TYPE: 'jwt',
      TOKEN__PROVIDERS__KLING__ACCESS_KEY: 'ak',
      TOKEN__PROVIDERS__KLING__SECRET_KEY: 'Cfg-SECRET-canary-0b7e',
      TOKEN__PROVIDERS__KLING__EXPIRES_IN: '600',
      TOKEN__PROVIDERS__KLING__BASE_URLS: '["not a url"]',
    }) as { providers: never };
    const message = messageOf(() => resolveTokenConfig({ providers }));
    expect(message).toBe(
      [
        'token module options: 2 mistakes:',
        '  - token provider "kling": "baseUrls.0" must be an absolute URL (environment variable TOKEN__PROVIDERS__KLING__BASE_URLS)',
        '  - token provider "kling": "expiresIn" is not an option (environment variable TOKEN__PROVIDERS__KLING__EXPIRES_IN)',
      ].join('\n'),
    );
    expect(message).not.toContain('Cfg-SECRET-canary-0b7e');
  });

  it('options written in code: plain words, no variable', () => {
    expect(
      messageOf(() =>
        resolveTokenConfig({
          providers: {
            o: { type: 'oauth2', clientId: 'c', tokenUrl: 'https://a.example/t', scope: 5 as never },
          },
          refreshTimeoutMs: 0,
        }),
      ),
    ).toBe(
      [
        'token module options: 2 mistakes:',
        '  - token provider "o": "scope" must be a non-empty string or a list',
        '  - "refreshTimeoutMs" must be greater than 0',
      ].join('\n'),
    );
  });
});
