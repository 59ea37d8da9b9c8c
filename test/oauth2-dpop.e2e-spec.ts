/**
 * DPoP (RFC 9449) at oidc-provider's token endpoint (nonces required) and on requests to a loopback
 * API that verifies every proof with jose, through the axios interceptor and the fetch wrapper.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ConfigModule, registerAs } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { exportPKCS8, generateKeyPair } from 'jose';
import { TokenModule, tokenConfigFromEnv } from '../libs/token/src/index.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { InvalidTokenOptionsError } from '../libs/token/src/core/token.errors.js';
import { oidcClient, startOidcTestBed, statusOfRefusal, type OidcTestBed } from './support/oidc-test-bed.js';
import { rejection } from './support/rejection.js';

const SECRET = 'Dp-e2e-SECRET-canary.8e2f_t';

describe('DPoP vs oidc-provider and a proof-checking API', () => {
  let bed: OidcTestBed;

  beforeAll(async () => {
    bed = await startOidcTestBed({
      scopes: ['orders:read'],
      features: { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } },
      clients: [oidcClient('shop', { client_secret: SECRET, scope: 'orders:read' })],
      imports: (issuer, [api]) => {
        const env = {
          TOKEN__PROVIDERS__ORDERS__TYPE: 'oauth2',
          TOKEN__PROVIDERS__ORDERS__ISSUER: issuer.issuer,
          TOKEN__PROVIDERS__ORDERS__CLIENT_ID: 'shop',
          TOKEN__PROVIDERS__ORDERS__CLIENT_SECRET: SECRET,
          TOKEN__PROVIDERS__ORDERS__SCOPE: 'orders:read',
          TOKEN__PROVIDERS__ORDERS__DPOP: 'true',
          TOKEN__PROVIDERS__ORDERS__BASE_URLS: JSON.stringify([api.origin]),
        };
        return [
          ConfigModule.forRoot({
            isGlobal: true,
            ignoreEnvFile: true,
            load: [registerAs('token', () => tokenConfigFromEnv(env))],
          }),
          TokenModule.forRoot({ refresh: { enabled: false } }),
        ];
      },
    });
  });
  afterAll(() => bed?.close());
  beforeEach(() => bed.api.reset());

  const request = (client: 'axios' | 'fetch', path: string, method = 'GET') =>
    bed.send(client, `${bed.api.origin}${path}`, { method, provider: 'orders' });

  it('token endpoint: use_dpop_nonce (400) is answered once with the nonce; a DPoP token; 100 callers → one token', async () => {
    const calls = bed.issuer.tokenCalls.length;
    const infos = await Promise.all(Array.from({ length: 100 }, () => bed.tokens.getToken('orders')));
    expect(new Set(infos.map((info) => info.token)).size).toBe(1);
    expect(infos[0].tokenType).toBe('DPoP');
    expect(infos[0].authorizationHeader).toMatch(/^DPoP /);
    expect(bed.issuer.tokenCalls.slice(calls)).toEqual([
      { grantType: 'client_credentials', status: 400, dpop: true },
      { grantType: 'client_credentials', status: 200, dpop: true },
    ]);
    expect((await bed.issuer.provider.ClientCredentials.find(infos[0].token))?.jkt).toEqual(
      expect.any(String),
    );
  });

  describe.each(['axios', 'fetch'] as const)('%s', (client) => {
    it('sends `Authorization: DPoP` with a fresh proof per request (htm, htu without query, ath, jti)', async () => {
      const { token } = await bed.tokens.getToken('orders');
      await expect(request(client, '/orders/orders:read?page=2#top')).resolves.toBe(200);
      await expect(request(client, '/orders/orders:read', 'POST')).resolves.toBe(200);
      expect(bed.api.seen.map((seen) => seen.status)).toEqual([200, 200]);
      const [first, second] = bed.api.seen;
      expect(first.authorization).toBe(`DPoP ${token}`);
      expect(first.proof).toMatchObject({ htm: 'GET', htu: `${bed.api.origin}/orders/orders:read` });
      expect(second.proof).toMatchObject({ htm: 'POST' });
      expect(first.proof?.jti).not.toBe(second.proof?.jti);
    });

    it('API 401 use_dpop_nonce → one retry with its nonce; the nonce is kept for the next request; no new token', async () => {
      await bed.tokens.getToken('orders');
      const calls = bed.issuer.tokenCalls.length;
      bed.api.requireDpopNonce = true;
      await expect(request(client, '/orders/orders:read')).resolves.toBe(200);
      await expect(request(client, '/orders/orders:read')).resolves.toBe(200);
      expect(bed.api.seen.map((seen) => seen.status)).toEqual([401, 200, 200]);
      expect(bed.api.seen[1].proof?.nonce).toEqual(expect.any(String));
      expect(bed.issuer.tokenCalls.length).toBe(calls);
    });

    it('a second use_dpop_nonce in a row is not retried again', async () => {
      await bed.tokens.getToken('orders');
      bed.api.requireDpopNonce = true;
      bed.api.alwaysNewNonce = true;
      const outcome = await request(client, '/orders/orders:read').catch(statusOfRefusal);
      expect(outcome).toBe(401);
      expect(bed.api.seen.map((seen) => seen.status)).toEqual([401, 401]);
    });
  });

  it('nonces are kept per origin, bounded', async () => {
    const strategy = new OAuth2Strategy({
      tokenUrl: bed.issuer.tokenUrl,
      clientId: 'shop',
      clientSecret: SECRET,
      dpop: { maxNonces: 2 },
    });
    const signer = strategy.senderConstraint!.dpop!;
    signer.nonces.set('https://a.example', 'n-a');
    signer.nonces.set('https://b.example', 'n-b');
    signer.nonces.set('https://c.example', 'n-c');
    expect(signer.nonces.size).toBe(2);
    expect(signer.nonces.get('https://a.example')).toBeUndefined();
    expect(signer.nonces.get('https://c.example')).toBe('n-c');
    expect(signer.nonces.set('https://c.example', 'bad "nonce"')).toBe(false);
  });

  it('one configured key → one cache key on every replica; generated keys → separate cache keys', async () => {
    const pem = await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey);
    const make = (dpop: true | { privateKey: string }) =>
      new OAuth2Strategy({ tokenUrl: bed.issuer.tokenUrl, clientId: 'shop', clientSecret: SECRET, dpop });
    expect(make({ privateKey: pem }).cacheKey).toBe(make({ privateKey: pem }).cacheKey);
    expect(make(true).cacheKey).not.toBe(make(true).cacheKey);
    const plain = new OAuth2Strategy({
      tokenUrl: bed.issuer.tokenUrl,
      clientId: 'shop',
      clientSecret: SECRET,
    });
    expect(plain.cacheKey).not.toBe(make({ privateKey: pem }).cacheKey);
  });

  it('an algorithm the issuer does not list, or a key that cannot sign, is a typed error naming the field', async () => {
    const rsa = await exportPKCS8(
      (await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 })).privateKey,
    );
    const strategy = new OAuth2Strategy({
      issuer: bed.issuer.issuer,
      clientId: 'shop',
      clientSecret: SECRET,
      dpop: { privateKey: rsa },
    });
    await expect(rejection(strategy.generate())).resolves.toMatchObject({ field: 'dpop.algorithm' });
    for (const dpop of [{ privateKey: 'not a key' }, { privateKey: rsa, algorithm: 'ES256' as const }]) {
      const error = (() => {
        try {
          return new OAuth2Strategy({
            tokenUrl: bed.issuer.tokenUrl,
            clientId: 'shop',
            clientSecret: SECRET,
            dpop,
          });
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({ field: 'dpop.privateKey' });
    }
  });
});
