import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { inspect } from 'node:util';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../testing-support/oauth2-loopback-server.js';
import { TEST_SECRETS } from '../testing-support/test-secrets.js';
import { TokenService } from '../module/token.service.js';
import { JwtStrategy } from './jwt.strategy.js';
import { OAuth2Strategy } from './oauth2/oauth2.strategy.js';

// Built-in strategies hold credentials (secret key, private key, client secret, refresh token).
// TypeScript `private` is an ordinary enumerable property, so these must be ES `#private` fields:
// nothing in `util.inspect`, `console.log`, `JSON.stringify` or `Object.values` may show them.

const JWT_SECRET = 'Jw-inspect-SECRET-canary-5e2a';
const CLIENT_SECRET = 'Oc-inspect-SECRET-canary-3d1f';
const REFRESH_TOKEN = 'Rt-inspect-REFRESH-canary-8b6c';
const ACCESS_TOKEN_PREFIX = 'At-inspect-ACCESS-canary-';

/** Every rendering of an object that can end up in a log line or a response. */
function renderings(value: object): string[] {
  return [
    inspect(value, { depth: 10, showHidden: true }),
    inspect(value, { depth: 10 }),
    JSON.stringify(value) ?? '',
    inspect(Object.values(value), { depth: 10, showHidden: true }),
  ];
}

/** The 64-character lines between a PEM's header and footer. */
function pemBodyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length > 0 && !line.startsWith('-----'));
}

function expectHidden(value: object, secrets: readonly string[]): void {
  for (const text of renderings(value)) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

let server: LoopbackServer;
let issued = 0;
let esPem: string;
let esJwk: Record<string, unknown>;
let keyMaterial: string[];

beforeAll(async () => {
  expect(TEST_SECRETS).toEqual(expect.arrayContaining([JWT_SECRET, CLIENT_SECRET, REFRESH_TOKEN]));
  server = await startLoopbackServer((_request, response) =>
    sendJson(response, 200, {
      access_token: `${ACCESS_TOKEN_PREFIX}${++issued}`,
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: REFRESH_TOKEN,
    }),
  );
  const pair = await generateKeyPair('ES256', { extractable: true });
  esPem = await exportPKCS8(pair.privateKey);
  esJwk = { ...(await exportJWK(pair.privateKey)) };
  keyMaterial = [...pemBodyLines(esPem), esJwk.d as string];
  expect(keyMaterial.length).toBeGreaterThan(1);
});
afterAll(() => server.close());

const hs256 = () => new JwtStrategy({ accessKey: 'ak-inspect', secretKey: JWT_SECRET });
const es256 = () => new JwtStrategy({ accessKey: 'ak-inspect', algorithm: 'ES256', privateKey: esPem });
const basic = () =>
  new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: 'svc-inspect', clientSecret: CLIENT_SECRET });
const keyJwt = () =>
  new OAuth2Strategy({
    tokenUrl: server.tokenUrl,
    clientId: 'svc-inspect-jwt',
    clientAuth: 'private_key_jwt',
    privateKey: esJwk,
    signingAlgorithm: 'ES256',
  });

describe('built-in strategies keep their secrets out of inspect, JSON and Object.values', () => {
  it('JwtStrategy with an HS256 secret key, before and after signing', async () => {
    const strategy = hs256();
    expectHidden(strategy, [JWT_SECRET]);
    await strategy.generate();
    expectHidden(strategy, [JWT_SECRET]);
    expect(Object.keys(strategy)).toEqual(['cacheKey']);
  });

  it('JwtStrategy with an ES256 PEM private key, before and after the key is imported', async () => {
    const strategy = es256();
    expectHidden(strategy, keyMaterial);
    await strategy.generate();
    expectHidden(strategy, keyMaterial);
    expect(Object.keys(strategy)).toEqual(['cacheKey']);
  });

  it('OAuth2Strategy with client_secret_basic, holding a refresh token after generate()', async () => {
    const strategy = basic();
    expectHidden(strategy, [CLIENT_SECRET]);
    const info = await strategy.generate();
    expect(info.extra.refresh_token).toBe(REFRESH_TOKEN);
    expectHidden(strategy, [CLIENT_SECRET, REFRESH_TOKEN, info.token]);
    expect(Object.keys(strategy)).toEqual(['cacheKey']);
  });

  it('OAuth2Strategy with private_key_jwt and a JWK, after signing an assertion', async () => {
    const strategy = keyJwt();
    expectHidden(strategy, keyMaterial);
    const info = await strategy.generate();
    expect(server.requests.at(-1)!.form.get('client_assertion')).toBeTruthy();
    expectHidden(strategy, [...keyMaterial, REFRESH_TOKEN, info.token]);
    expect(Object.keys(strategy)).toEqual(['cacheKey']);
  });

  it('a TokenService holding these strategies and their tokens shows neither secrets nor tokens', async () => {
    const service = new TokenService();
    try {
      service.register('hs', hs256());
      service.register('es', es256());
      service.register('basic', basic());
      service.register('jwt-auth', keyJwt());
      const tokens = await service.getTokens(['hs', 'es', 'basic', 'jwt-auth']);
      const secrets = [
        JWT_SECRET,
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ACCESS_TOKEN_PREFIX,
        ...keyMaterial,
        ...Object.values(tokens).map((info) => info.token),
      ];
      const texts = [inspect(service, { depth: 10 }), inspect(service, { depth: 10, showHidden: true })];
      // Deep enough to reach the strategies and the cached tokens.
      expect(texts[0]).toContain('jwt:ak-inspect');
      expect(texts[0]).toContain('svc-inspect-jwt');
      for (const text of texts) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
    } finally {
      await service.onApplicationShutdown();
    }
  });
});
