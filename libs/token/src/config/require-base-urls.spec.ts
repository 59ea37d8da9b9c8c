/** Issue 19 item 7: `requireBaseUrls` makes a provider without `baseUrls` a start-up error. */
import { describe, expect, it } from '@jest/globals';
import { ConfigModule, registerAs } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { rejection } from '../testing-support/rejection.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { TokenModule } from '../module/token.module.js';
import { TokenService } from '../module/token.service.js';
import { tokenConfigFromEnv } from './token-config.loader.js';
import { checkRequiredBaseUrls } from './require-base-urls.check.js';

const jwt = { type: 'jwt', accessKey: 'ak-public', secretKey: 'sk-require-base-urls' } as const;

function start(options: Parameters<typeof TokenModule.forRoot>[0]) {
  return Test.createTestingModule({
    imports: [TokenModule.forRoot({ refresh: { enabled: false }, ...options })],
  }).compile();
}

describe('requireBaseUrls', () => {
  it.each([
    ['without baseUrls', {}],
    ['with an empty baseUrls', { baseUrls: [] }],
  ])('a provider %s stops start-up, naming the provider and "baseUrls"', async (_case, extra) => {
    const error = await rejection(
      start({
        requireBaseUrls: true,
        providers: { bound: { ...jwt, baseUrls: ['https://api.example'] }, kling: { ...jwt, ...extra } },
      }),
    );
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ provider: 'kling', field: 'baseUrls' });
    expect((error as Error).message).toMatch(/^token provider "kling": "baseUrls" is required because/);
    expect((error as Error).message).not.toContain('sk-require-base-urls');
  });

  it('every provider with baseUrls: starts', async () => {
    const moduleRef = await start({
      requireBaseUrls: true,
      providers: { kling: { ...jwt, baseUrls: ['https://api.example'] } },
    });
    expect(moduleRef.get(TokenService).getProviderOptions('kling').baseUrls).toEqual(['https://api.example']);
    await moduleRef.close();
  });

  it('default off: a provider without baseUrls starts (the fail-open default, warned at its first request)', async () => {
    const moduleRef = await start({ providers: { kling: { ...jwt } } });
    await moduleRef.close();
  });

  it('TOKEN__REQUIRE_BASE_URLS=true from the environment does the same', async () => {
    const env = {
      TOKEN__REQUIRE_BASE_URLS: 'true',
      TOKEN__PROVIDERS__KLING__TYPE: 'jwt',
      TOKEN__PROVIDERS__KLING__ACCESS_KEY: 'ak-public',
      TOKEN__PROVIDERS__KLING__SECRET_KEY: 'sk-require-base-urls',
    };
    expect(tokenConfigFromEnv(env)).toMatchObject({ requireBaseUrls: true });
    // The other option of these start-up refusals maps to a boolean the same way.
    expect(tokenConfigFromEnv({ TOKEN__PROVIDERS__IDP__DISCOVERY__ALLOW_LOCAL_ENDPOINTS: 'true' })).toEqual({
      providers: { idp: { discovery: { allowLocalEndpoints: true } } },
    });
    const error = await rejection(
      Test.createTestingModule({
        imports: [
          ConfigModule.forRoot({
            isGlobal: true,
            ignoreEnvFile: true,
            load: [registerAs('token', () => tokenConfigFromEnv(env))],
          }),
          TokenModule.forRoot(),
        ],
      }).compile(),
    );
    expect(error).toMatchObject({ provider: 'kling', field: 'baseUrls' });
  });
});

describe('checkRequiredBaseUrls', () => {
  it('names the provider, the field and what to list', () => {
    let error: InvalidTokenOptionsError | undefined;
    try {
      checkRequiredBaseUrls({
        requireBaseUrls: true,
        providers: { a: { baseUrls: ['https://a.example'] }, b: {} },
      });
    } catch (caught) {
      error = caught as InvalidTokenOptionsError;
    }
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error?.message).toBe(
      'token provider "b": "baseUrls" is required because "requireBaseUrls" is on ' +
        "(list the origins of the API this provider's token is for)",
    );
    expect(error?.provider).toBe('b');
    expect(error?.field).toBe('baseUrls');
  });

  it('lets anything through when requireBaseUrls is off or there are no providers', () => {
    expect(() => checkRequiredBaseUrls({ providers: { b: {} } })).not.toThrow();
    expect(() => checkRequiredBaseUrls({ requireBaseUrls: false, providers: { b: {} } })).not.toThrow();
    expect(() => checkRequiredBaseUrls({ requireBaseUrls: true })).not.toThrow();
  });
});
