/**
 * DPoP (RFC 9449) in fleet mode: replicas as Nest applications in this process sharing one Redis
 * store (a key prefix of their own), an oidc-provider issuer that binds tokens to the proof key
 * (nonces required), and a loopback API that verifies every proof against the token's thumbprint.
 * What docs/protocols.md says: replicas with the same configured key share one DPoP token and each one's
 * proofs verify; replicas with generated keys, or a key rotated in, never get a token bound to
 * another key.
 */
import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { TokenFetch, TokenModule, TokenService } from '../libs/token/src/index.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { startResourceServer, type ResourceServer } from './support/oidc-resource-server.js';
import { oidcClient } from './support/oidc-test-bed.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const SECRET = 'Dp-e2e-SECRET-canary.8e2f_t';
const PATH = '/orders/orders:read';
const encryptionKeys = [{ kid: 'dpop', key: randomBytes(32).toString('base64') }];

/** A DPoP key in PKCS#8 PEM, as the configuration takes it, and its RFC 7638 thumbprint. */
async function dpopKey(): Promise<{ pem: string; thumbprint: string }> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pem = await exportPKCS8(privateKey);
  const thumbprint = await calculateJwkThumbprint(await exportJWK(createPublicKey(pem)));
  return { pem, thumbprint };
}

describe('DPoP in fleet mode: 2 replicas on one Redis store', () => {
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let issuer: OidcServer;
  let api: ResourceServer;
  let prefix: string;
  let apps: TestingModule[] = [];

  beforeAll(async () => {
    issuer = await startOidcServer({
      scopes: ['orders:read'],
      features: { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } },
      clients: [oidcClient('shop', { client_secret: SECRET, scope: 'orders:read' })],
    });
    api = await startResourceServer(issuer.provider);
  });
  afterAll(async () => {
    await api?.close();
    await issuer?.close();
    await admin.quit();
  });
  beforeEach(() => {
    prefix = `ntm-dpop:${randomUUID()}:`;
    api.reset();
  });
  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  });

  /** One replica: the `orders` provider with `dpop`, on the shared store. */
  async function replica(dpop: true | { privateKey: string }) {
    const app = await Test.createTestingModule({
      imports: [
        // An axios instance per replica: plain `HttpModule` would share the global one across the apps.
        HttpModule.register({}),
        TokenModule.forRoot({
          store: 'redis',
          // A roomy budget: on a loaded machine a Redis reply can outlast the 100 ms default, and a
          // replica then (rightly) fetches its own token, which is not what these tests look at.
          redis: { url: REDIS_URL, keyPrefix: prefix, encryptionKeys, budgetMs: 5_000 },
          refresh: { enabled: false },
          providers: {
            orders: {
              type: 'oauth2',
              issuer: issuer.issuer,
              clientId: 'shop',
              clientSecret: SECRET,
              scope: 'orders:read',
              dpop,
              baseUrls: [api.origin],
            },
          },
        }),
      ],
    }).compile();
    await app.init();
    apps.push(app);
    const http = app.get(HttpService);
    const tokenFetch = app.get(TokenFetch);
    return {
      tokens: app.get(TokenService),
      /** One API call through the axios integration, one through the fetch wrapper: their statuses. */
      callApi: async () => [
        (await http.axiosRef.get(`${api.origin}${PATH}`, { token: 'orders' })).status,
        (await tokenFetch.fetch(`${api.origin}${PATH}`, { token: 'orders' })).status,
      ],
    };
  }

  /** Tokens the issuer issued since `from` (a use_dpop_nonce 400 before each is not one). */
  const issuedSince = (from: number) => issuer.tokenCalls.slice(from).filter((call) => call.status === 200);
  const jktOf = async (token: string) => (await issuer.provider.ClientCredentials.find(token))?.jkt;
  const sharedEntries = async () => (await admin.keys(`${prefix}token:*`)).length;

  it('the same configured key: one token request for the fleet, the shared token bound to that key, proofs of both replicas verify', async () => {
    const key = await dpopKey();
    const [a, b] = [await replica({ privateKey: key.pem }), await replica({ privateKey: key.pem })];
    const calls = issuer.tokenCalls.length;
    const fromA = await a.tokens.getToken('orders');
    const fromB = await b.tokens.getToken('orders');
    expect(fromA.tokenType).toBe('DPoP');
    expect(fromB.token).toBe(fromA.token);
    expect(issuedSince(calls)).toHaveLength(1);
    expect(await sharedEntries()).toBe(1);
    expect(await jktOf(fromA.token)).toBe(key.thumbprint);

    expect(await a.callApi()).toEqual([200, 200]);
    expect(await b.callApi()).toEqual([200, 200]);
    expect(api.seen.map((seen) => [seen.status, seen.authorization])).toEqual(
      Array.from({ length: 4 }, () => [200, `DPoP ${fromA.token}`]),
    );
    expect(new Set(api.seen.map((seen) => seen.proof?.jti)).size).toBe(4);
  });

  it('generated keys (`dpop: true`): each replica gets its own token, bound to its own key, and never the other one', async () => {
    const [a, b] = [await replica(true), await replica(true)];
    const calls = issuer.tokenCalls.length;
    const fromA = await a.tokens.getToken('orders');
    const fromB = await b.tokens.getToken('orders');
    expect(fromB.token).not.toBe(fromA.token);
    expect(issuedSince(calls)).toHaveLength(2);
    expect(await sharedEntries()).toBe(2);
    const [jktA, jktB] = [await jktOf(fromA.token), await jktOf(fromB.token)];
    expect(jktA).toEqual(expect.any(String));
    expect(jktB).toEqual(expect.any(String));
    expect(jktB).not.toBe(jktA);

    // Each replica keeps to its own token, and its proofs verify against that token's key.
    expect(await a.callApi()).toEqual([200, 200]);
    expect(await b.callApi()).toEqual([200, 200]);
    expect(api.seen.map((seen) => seen.authorization)).toEqual([
      `DPoP ${fromA.token}`,
      `DPoP ${fromA.token}`,
      `DPoP ${fromB.token}`,
      `DPoP ${fromB.token}`,
    ]);
    expect(api.seen.every((seen) => seen.status === 200)).toBe(true);
  });

  it('a replica on a rotated key does not use the shared token of the old key; it gets one bound to the new key', async () => {
    const [oldKey, newKey] = [await dpopKey(), await dpopKey()];
    const before = await replica({ privateKey: oldKey.pem });
    const shared = await before.tokens.getToken('orders');
    const calls = issuer.tokenCalls.length;
    const after = await replica({ privateKey: newKey.pem });
    const rotated = await after.tokens.getToken('orders');
    expect(rotated.token).not.toBe(shared.token);
    expect(issuedSince(calls)).toHaveLength(1);
    expect(await jktOf(rotated.token)).toBe(newKey.thumbprint);
    expect(await jktOf(shared.token)).toBe(oldKey.thumbprint);
    expect(await after.callApi()).toEqual([200, 200]);
    expect(await before.callApi()).toEqual([200, 200]);
    // The replica still on the old key keeps its token.
    expect((await before.tokens.getToken('orders')).token).toBe(shared.token);
  });
});
