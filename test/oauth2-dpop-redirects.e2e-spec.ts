/**
 * DPoP (RFC 9449) on redirect hops: an oidc-provider DPoP token, two allowed loopback APIs that
 * verify every proof with jose (htm, htu, ath, jti, the token's key), and a foreign origin that
 * records what reaches it. Through the axios integration (http and fetch adapters) and the fetch wrapper.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TokenModule } from '../libs/token/src/index.js';
import { listen } from './support/http-servers.js';
import { oidcClient, startOidcTestBed, type ApiClient, type OidcTestBed } from './support/oidc-test-bed.js';
import type { ResourceServer } from './support/oidc-resource-server.js';

const SECRET = 'Dp-e2e-SECRET-canary.8e2f_t';
const PATH = '/orders/orders:read';

describe('DPoP proofs on redirect hops vs oidc-provider and proof-checking APIs', () => {
  let bed: OidcTestBed;
  let api: ResourceServer;
  let other: ResourceServer;
  let foreign: { origin: string; seen: IncomingHttpHeaders[]; close(): Promise<void> };

  beforeAll(async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = await listen((request, _body, response) => {
      seen.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    foreign = { ...server, seen };
    bed = await startOidcTestBed({
      scopes: ['orders:read'],
      features: { dPoP: { enabled: true } },
      clients: [oidcClient('shop', { client_secret: SECRET, scope: 'orders:read' })],
      apis: 2,
      imports: (issuer, [first, second]) => [
        TokenModule.forRoot({
          refresh: { enabled: false },
          providers: {
            orders: {
              type: 'oauth2',
              issuer: issuer.issuer,
              clientId: 'shop',
              clientSecret: SECRET,
              scope: 'orders:read',
              dpop: true,
              baseUrls: [first.origin, second.origin],
            },
          },
        }),
      ],
    });
    [api, other] = bed.apis;
  });
  afterAll(async () => {
    await bed?.close();
    await foreign?.close();
  });
  beforeEach(() => {
    api.reset();
    other.reset();
    foreign.seen.length = 0;
  });

  /** `from` answers an authorized request with `status` and `Location: to`. */
  const redirecting = (from: ResourceServer, status: number, to: string) =>
    `${from.origin}${PATH}?redirect=${status}&to=${encodeURIComponent(to)}`;
  const athOf = (token: string) => createHash('sha256').update(token).digest('base64url');

  describe.each(['axios', 'axios-fetch', 'fetch'] as ApiClient[])('%s', (client) => {
    it.each([
      [307, 'POST', 'POST'],
      [308, 'PUT', 'PUT'],
      [302, 'POST', 'GET'],
      [303, 'POST', 'GET'],
      [303, 'DELETE', 'GET'],
      [301, 'GET', 'GET'],
    ])(
      '%i after %s to another allowed origin: that hop carries the token and a fresh proof for %s and its own URL',
      async (status, method, hopMethod) => {
        const { token } = await bed.tokens.getToken('orders');
        const url = redirecting(api, status, `${other.origin}${PATH}?hop=2`);
        const body = method === 'GET' || method === 'DELETE' ? undefined : '{"id":7}';
        await expect(bed.send(client, url, { method, body, provider: 'orders' })).resolves.toBe(200);

        // Each API verified its proof: a wrong htm, htu, ath, key or a replayed jti would be a 401.
        expect(api.seen.map((seen) => seen.status)).toEqual([status]);
        expect(other.seen.map((seen) => seen.status)).toEqual([200]);
        const [first, hop] = [api.seen[0], other.seen[0]];
        expect(hop.method).toBe(hopMethod);
        expect(hop.authorization).toBe(`DPoP ${token}`);
        expect(first.proof).toMatchObject({ htm: method, htu: `${api.origin}${PATH}`, ath: athOf(token) });
        expect(hop.proof).toMatchObject({ htm: hopMethod, htu: `${other.origin}${PATH}`, ath: athOf(token) });
        expect(hop.proof?.jti).not.toBe(first.proof?.jti);
      },
    );

    it.each([307, 302])(
      '%i to a foreign origin: that hop gets neither the token nor a proof, on any later hop either',
      async (status) => {
        const url = redirecting(api, 307, redirecting(other, status, `${foreign.origin}/landing`));
        await expect(bed.send(client, url, { method: 'POST', body: '{}', provider: 'orders' })).resolves.toBe(
          200,
        );
        expect([...api.seen, ...other.seen].map((seen) => seen.status)).toEqual([307, status]);
        expect(other.seen[0].proof).toMatchObject({ htu: `${other.origin}${PATH}` });
        expect(foreign.seen).toHaveLength(1);
        expect(foreign.seen[0].authorization).toBeUndefined();
        expect(foreign.seen[0].dpop).toBeUndefined();
      },
    );

    it('a hop whose origin asks for a DPoP nonce is sent once more with it; no new token', async () => {
      await bed.tokens.getToken('orders');
      const calls = bed.issuer.tokenCalls.length;
      other.requireDpopNonce = true;
      const url = redirecting(api, 302, `${other.origin}${PATH}`);
      await expect(bed.send(client, url, { provider: 'orders' })).resolves.toBe(200);
      expect(api.seen.map((seen) => seen.status)).toEqual([302]);
      expect(other.seen.map((seen) => seen.status)).toEqual([401, 200]);
      expect(other.seen[1].proof?.nonce).toEqual(expect.any(String));
      expect(other.seen[1].proof?.nonce).not.toBe(other.seen[0].proof?.nonce);
      expect(api.seen[0].proof?.nonce).toBeUndefined();
      expect(bed.issuer.tokenCalls.length).toBe(calls);
    });
  });
});
