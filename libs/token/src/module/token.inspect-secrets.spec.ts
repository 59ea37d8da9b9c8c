/**
 * Nothing secret is reachable by inspection: `util.inspect(x, { depth: Infinity })` of the service,
 * of every strategy and of every provider the module creates (memory store) shows no secret, no key
 * material, no token. The Redis store and the encryption are covered in `stores/`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { ModulesContainer } from '@nestjs/core';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { inspect } from 'node:util';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../testing-support/oauth2-loopback-server.js';
import { TEST_SECRETS } from '../testing-support/test-secrets.js';
import { JwtStrategy } from '../strategies/jwt.strategy.js';
import { OAuth2Strategy } from '../strategies/oauth2/oauth2.strategy.js';
import { TOKEN_MODULE_OPTIONS } from './token.module-definition.js';
import { TOKEN_RESOLVED_CONFIG, TokenModule } from './token.module.js';
import type { TokenProviderConfig } from '../config/token.options.js';
import { TokenService } from './token.service.js';

const JWT_SECRET = 'In-jwt-SECRET-canary-77c1';
const CLIENT_SECRET = 'In-client-SECRET-canary-0d3e';
const REFRESH_TOKEN = 'In-REFRESH-canary-5a90';
const ACCESS_PREFIX = 'In-ACCESS-canary-';

let server: LoopbackServer;
let issued = 0;
let pem: string;
let jwk: Record<string, unknown>;
let keyMaterial: string[];

beforeAll(async () => {
  expect(TEST_SECRETS).toEqual(expect.arrayContaining([JWT_SECRET, CLIENT_SECRET, REFRESH_TOKEN]));
  server = await startLoopbackServer((_request, response) =>
    sendJson(response, 200, {
      access_token: `${ACCESS_PREFIX}${++issued}`,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: REFRESH_TOKEN,
    }),
  );
  const pair = await generateKeyPair('ES256', { extractable: true });
  pem = await exportPKCS8(pair.privateKey);
  jwk = { ...(await exportJWK(pair.privateKey)) };
  const pemLines = pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
  keyMaterial = [...pemLines, jwk.d as string];
});
afterAll(() => server.close());

function providers(): Record<string, TokenProviderConfig> {
  return {
    hs: { type: 'jwt', accessKey: 'ak-in', secretKey: JWT_SECRET },
    es: { type: 'jwt', accessKey: 'ak-in-es', algorithm: 'ES256', privateKey: pem },
    basic: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'svc-in', clientSecret: CLIENT_SECRET },
    post: {
      type: 'oauth2',
      tokenUrl: server.tokenUrl,
      clientId: 'svc-in-post',
      clientSecret: CLIENT_SECRET,
      clientAuth: 'client_secret_post',
      extraParams: { api_key: CLIENT_SECRET },
    },
    keyjwt: {
      type: 'oauth2',
      tokenUrl: server.tokenUrl,
      clientId: 'svc-in-jwt',
      clientAuth: 'private_key_jwt',
      privateKey: jwk,
      signingAlgorithm: 'ES256',
    },
  };
}

/** Every deep rendering; depth Infinity, with and without hidden properties. */
function deepRenderings(value: unknown): string[] {
  return [inspect(value, { depth: Infinity }), inspect(value, { depth: Infinity, showHidden: true })];
}

function expectNoSecret(label: string, value: unknown, secrets: readonly string[]): void {
  for (const text of deepRenderings(value)) {
    const leaked = secrets.find((secret) => text.includes(secret));
    expect(leaked === undefined ? label : `${label} shows ${leaked.slice(0, 6)}…`).toBe(label);
  }
}

const secrets = () => [JWT_SECRET, CLIENT_SECRET, REFRESH_TOKEN, ACCESS_PREFIX, ...keyMaterial];

describe('nothing secret by inspection, at any depth', () => {
  it('every strategy, before and after it got a token', async () => {
    const strategies = [
      new JwtStrategy({ accessKey: 'ak-in', secretKey: JWT_SECRET }),
      new JwtStrategy({ accessKey: 'ak-in-es', algorithm: 'ES256', privateKey: pem }),
      new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: 'svc-in', clientSecret: CLIENT_SECRET }),
      new OAuth2Strategy({
        tokenUrl: server.tokenUrl,
        clientId: 'svc-in-jwt',
        clientAuth: 'private_key_jwt',
        privateKey: jwk,
        signingAlgorithm: 'ES256',
      }),
    ];
    for (const strategy of strategies) {
      expectNoSecret(strategy.cacheKey, strategy, secrets());
      await strategy.generate();
      expectNoSecret(strategy.cacheKey, strategy, secrets());
    }
  });

  describe('the module and every provider it creates (memory store)', () => {
    let moduleRef: TestingModule;
    beforeAll(async () => {
      moduleRef = await Test.createTestingModule({
        imports: [TokenModule.forRoot({ providers: providers(), refresh: { enabled: false } })],
      }).compile();
      await moduleRef.init();
      const service = moduleRef.get(TokenService);
      await service.getTokens(['hs', 'es', 'basic', 'post', 'keyjwt']);
      await service.refreshToken('basic'); // spends the refresh token: a new one is held
    });
    afterAll(() => moduleRef.close());

    it('TokenService holding every provider and its tokens', () => {
      const service = moduleRef.get(TokenService);
      const text = inspect(service, { depth: Infinity });
      expect(text).toContain('svc-in-jwt'); // deep enough to reach the strategies
      const tokens = service.providerNames().map((name) => service.getTokenInfo(name)!.token);
      expectNoSecret('TokenService', service, [...secrets(), ...tokens]);
    });

    it('the options and the resolved configuration', () => {
      expectNoSecret('TOKEN_MODULE_OPTIONS', moduleRef.get(TOKEN_MODULE_OPTIONS), secrets());
      expectNoSecret('TOKEN_RESOLVED_CONFIG', moduleRef.get(TOKEN_RESOLVED_CONFIG), secrets());
      // Still readable for what is not secret.
      expect(inspect(moduleRef.get(TOKEN_RESOLVED_CONFIG), { depth: Infinity })).toContain('ak-in-es');
    });

    it('every provider instance of the token module', () => {
      const container = moduleRef.get(ModulesContainer);
      const tokenModule = [...container.values()].find((module) => module.metatype === TokenModule)!;
      const instances = [...tokenModule.providers.values()]
        .map((wrapper) => [String(wrapper.name), wrapper.instance] as const)
        .filter(([, instance]) => instance !== undefined && instance !== null);
      expect(instances.length).toBeGreaterThanOrEqual(10);
      // One rendering of them all: `ModuleRef` and `DiscoveryService` reach the whole container, which
      // inspect then walks once (cycles are cut) instead of once per provider.
      expectNoSecret(instances.map(([name]) => name).join(', '), Object.fromEntries(instances), secrets());
    });
  });
});
