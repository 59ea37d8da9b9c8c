import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService, registerAs } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  InvalidTokenOptionsError,
  TokenInfo,
  TokenModule,
  TokenService,
  tokenConfigFromEnv,
  type TokenStrategy,
} from '@app/token';
import { jwtVerify } from 'jose';
import { LogCapture } from './support/log-capture.js';

const SECRET = 'super-secret-kling-sk-4242';
const CLIENT_SECRET = 'client-secret-zz-9191';

const kling = { type: 'jwt' as const, accessKey: 'ak-demo', secretKey: SECRET };

@Injectable()
class VaultClient {
  reads = 0;
  read(): string {
    this.reads++;
    return `vault-token-${this.reads}`;
  }
}

@Module({ providers: [VaultClient], exports: [VaultClient] })
class VaultModule {}

@Injectable()
class VaultStrategy implements TokenStrategy {
  readonly cacheKey = 'vault:payments';
  constructor(@Inject(VaultClient) private readonly vault: VaultClient) {}
  async generate() {
    return new TokenInfo({ token: this.vault.read(), expiresAt: Date.now() + 3_600_000 });
  }
}

describe('TokenModule', () => {
  let logs: LogCapture;
  beforeEach(() => {
    logs = new LogCapture().install();
  });
  afterEach(() => logs.restore());

  it('forRoot registers the listed providers', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TokenModule.forRoot({ providers: { kling }, refresh: { enabled: false } })],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    const info = await tokens.getToken('kling');
    const { payload } = await jwtVerify(info.token, new TextEncoder().encode(SECRET));
    expect(payload.iss).toBe('ak-demo');
    expect(await tokens.getTokenString('kling')).toBe(`Bearer ${info.token}`);
    await moduleRef.close();
  });

  it('forRoot() with no providers reads the `token` namespace of ConfigService, e.g. from env vars', async () => {
    const env = {
      TOKEN__PROVIDERS__KLING__TYPE: 'jwt',
      TOKEN__PROVIDERS__KLING__ACCESS_KEY: 'ak-env',
      TOKEN__PROVIDERS__KLING__SECRET_KEY: SECRET,
      TOKEN__PROVIDERS__KLING__EXPIRES_IN_SECONDS: '600',
      TOKEN__PROVIDERS__KLING__BASE_URLS: '["https://api.klingai.com"]',
      TOKEN__SAFETY_MARGIN_MS: '60000',
      TOKEN__REFRESH__ENABLED: 'false',
      UNRELATED: 'x',
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [registerAs('token', () => tokenConfigFromEnv(env))],
        }),
        TokenModule.forRoot(),
      ],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    expect(tokens.providerNames()).toEqual(['kling']);
    expect(tokens.getProviderOptions('kling').baseUrls).toEqual(['https://api.klingai.com']);
    const info = await tokens.getToken('kling');
    expect(info.expiresAt - info.issuedAt).toBeLessThanOrEqual(600_000);
    await moduleRef.close();
  });

  it('tokenConfigFromEnv converts only numeric and boolean options: ids and secrets stay strings', () => {
    const config = tokenConfigFromEnv({
      TOKEN__PROVIDERS__P__TYPE: 'oauth2',
      TOKEN__PROVIDERS__P__CLIENT_ID: '0012345',
      TOKEN__PROVIDERS__P__CLIENT_SECRET: '123456',
      TOKEN__PROVIDERS__P__TIMEOUT_MS: '5000',
      TOKEN__PROVIDERS__P__ALLOW_INSECURE_HTTP: 'true',
      TOKEN__PROVIDERS__P__SCOPE: '["a","b"]',
      TOKEN__REDIS__PASSWORD: '123456',
      TOKEN__REDIS__PORT: '6380',
    }) as { providers: { p: Record<string, unknown> }; redis: Record<string, unknown> };
    expect(config.providers.p).toEqual({
      type: 'oauth2',
      clientId: '0012345',
      clientSecret: '123456',
      timeoutMs: 5000,
      allowInsecureHttp: true,
      scope: ['a', 'b'],
    });
    expect(config.redis).toEqual({ password: '123456', port: 6380 });
  });

  it('forRootAsync takes the options from a factory with injected dependencies', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [registerAs('token', () => ({ providers: { kling } }))],
        }),
        TokenModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            ...config.getOrThrow('token'),
            refresh: { enabled: false },
          }),
        }),
      ],
    }).compile();
    await expect(moduleRef.get(TokenService).getToken('kling')).resolves.toBeInstanceOf(TokenInfo);
    await moduleRef.close();
  });

  it('custom strategies are resolved through DI: useClass, useFactory with inject, useExisting', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TokenModule.forRootAsync({
          imports: [VaultModule],
          useFactory: () => ({
            refresh: { enabled: false },
            providers: {
              byClass: { type: 'custom', useClass: VaultStrategy },
              byFactory: {
                type: 'custom',
                useFactory: (vault: VaultClient) => ({
                  cacheKey: 'vault:factory',
                  generate: async () =>
                    new TokenInfo({ token: vault.read(), expiresAt: Date.now() + 60_000 }),
                }),
                inject: [VaultClient],
              },
              byExisting: { type: 'custom', useExisting: 'EXISTING_STRATEGY' },
            },
          }),
        }),
      ],
      providers: [
        {
          provide: 'EXISTING_STRATEGY',
          useValue: {
            cacheKey: 'existing',
            generate: async () => new TokenInfo({ token: 'e', expiresAt: Date.now() + 60_000 }),
          },
        },
      ],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    const all = await tokens.getTokens(['byClass', 'byFactory', 'byExisting']);
    expect(all.byClass.token).toMatch(/^vault-token-/);
    expect(all.byFactory.token).toMatch(/^vault-token-/);
    expect(all.byExisting.token).toBe('e');
    await moduleRef.close();
  });

  describe('bad configuration fails at start-up naming the provider and the field, never the secret', () => {
    const cases: Array<[string, Record<string, unknown>, string, string | undefined]> = [
      ['no type', { kling: { accessKey: 'ak', secretKey: SECRET } }, 'kling', 'type'],
      ['unknown type', { kling: { type: 'saml', secretKey: SECRET } }, 'kling', 'type'],
      ['jwt without accessKey', { kling: { type: 'jwt', secretKey: SECRET } }, 'kling', 'accessKey'],
      ['jwt without secretKey', { kling: { type: 'jwt', accessKey: 'ak' } }, 'kling', 'secretKey'],
      [
        'jwt secretKey not a string',
        { kling: { type: 'jwt', accessKey: 'ak', secretKey: 42 } },
        'kling',
        'secretKey',
      ],
      ['jwt bad lifetime', { kling: { ...kling, expiresInSeconds: 0 } }, 'kling', 'expiresInSeconds'],
      ['jwt misspelt option', { kling: { ...kling, secret_key: SECRET } }, 'kling', ''],
      ['negative margin', { kling: { ...kling, safetyMarginMs: -5 } }, 'kling', 'safetyMarginMs'],
      ['bad baseUrls', { kling: { ...kling, baseUrls: ['not a url'] } }, 'kling', 'baseUrls.0'],
      [
        'oauth2 without tokenUrl',
        { github: { type: 'oauth2', clientId: 'id', clientSecret: CLIENT_SECRET } },
        'github',
        'tokenUrl',
      ],
      [
        'oauth2 without clientSecret',
        { github: { type: 'oauth2', tokenUrl: 'https://auth.example.com/token', clientId: 'id' } },
        'github',
        'clientSecret',
      ],
      [
        'oauth2 over plain http',
        {
          github: {
            type: 'oauth2',
            tokenUrl: 'http://auth.example.com/token',
            clientId: 'id',
            clientSecret: CLIENT_SECRET,
          },
        },
        'github',
        'tokenUrl',
      ],
      ['custom with nothing to build', { mine: { type: 'custom' } }, 'mine', 'useClass'],
      [
        'custom with an unknown token',
        { mine: { type: 'custom', useExisting: 'NOPE' } },
        'mine',
        'useExisting',
      ],
    ];

    it.each(cases)('%s', async (_name, providers, provider, field) => {
      const error = await Test.createTestingModule({
        imports: [TokenModule.forRoot({ providers: providers as never, refresh: { enabled: false } })],
      })
        .compile()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      const typed = error as InvalidTokenOptionsError;
      expect(typed.provider).toBe(provider);
      if (field) {
        expect(typed.field).toBe(field);
        expect(typed.message).toContain(`"${field}"`);
      }
      expect(typed.message).toContain(`"${provider}"`);
      for (const text of [typed.message, String(typed.stack), JSON.stringify(typed), ...logs.lines]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(CLIENT_SECRET);
      }
    });

    it('rejects unknown top-level options', async () => {
      const error = await Test.createTestingModule({
        imports: [TokenModule.forRoot({ providers: {}, margin: 5 } as never)],
      })
        .compile()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect((error as Error).message).toMatch(/margin/);
    });
  });
});
