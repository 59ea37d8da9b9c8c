import { describe, expect, it } from '@jest/globals';
import { envVariableOf, recordEnvOrigin } from './env-origins.js';
import { tokenConfigFromEnv } from './token-config.loader.js';

describe('envVariableOf: the variable to fix for a path of a tokenConfigFromEnv result', () => {
  const config = tokenConfigFromEnv({
    TOKEN__PROVIDERS__Kling__Access_Key: 'ak',
    TOKEN__PROVIDERS__Kling__TYPE: 'jwt',
    TOKEN__PROVIDERS__Other__TYPE: 'jwt',
    TOKEN__PROVIDERS__Other__BASE_URLS: '["not a url"]',
    TOKEN__REFRESH__ENABLED: 'true',
  });

  it.each<[PropertyKey[], string | undefined]>([
    [['providers'], 'TOKEN__PROVIDERS'],
    [['providers', 'kling'], 'TOKEN__PROVIDERS__Kling'],
    [['providers', 'other'], 'TOKEN__PROVIDERS__Other'],
    [['providers', 'kling', 'accessKey'], 'TOKEN__PROVIDERS__Kling__Access_Key'],
    [['providers', 'kling', 'type'], 'TOKEN__PROVIDERS__Kling__TYPE'],
    [['providers', 'kling', 'secretKey'], 'TOKEN__PROVIDERS__Kling__SECRET_KEY'],
    [['providers', 'other', 'baseUrls', 0], 'TOKEN__PROVIDERS__Other__BASE_URLS'],
    [['providers', 'kling', 'accessKey', 'deeper'], 'TOKEN__PROVIDERS__Kling__Access_Key'],
    [['refresh', 'enabled'], 'TOKEN__REFRESH__ENABLED'],
    [['refresh', 'cron'], 'TOKEN__REFRESH__CRON'],
    [['refreshTimeoutMs'], 'TOKEN__REFRESH_TIMEOUT_MS'],
  ])('%j → %s', (path, variable) => {
    expect(envVariableOf(config, path)).toBe(variable);
  });

  it('knows no variable for configuration that did not come from the environment', () => {
    expect(
      envVariableOf({ providers: { kling: { type: 'jwt' } } }, ['providers', 'kling', 'type']),
    ).toBeUndefined();
    expect(envVariableOf(undefined, ['providers'])).toBeUndefined();
    expect(envVariableOf('text', ['providers'])).toBeUndefined();
  });

  it('keeps the first prefix of a node and every name recorded in it', () => {
    const node = {};
    recordEnvOrigin(node, 'A__', 'one', 'A__ONE_EXACT');
    recordEnvOrigin(node, 'B__', 'two', 'B__TWO_EXACT');
    expect(envVariableOf(node, ['one'])).toBe('A__ONE_EXACT');
    expect(envVariableOf(node, ['two'])).toBe('B__TWO_EXACT');
    expect(envVariableOf(node, ['threeOptions'])).toBe('A__THREE_OPTIONS');
  });
});
