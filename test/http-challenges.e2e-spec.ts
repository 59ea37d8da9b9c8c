/**
 * RFC 6750 challenges on 401/403 through the axios interceptor and the fetch wrapper, against an
 * oidc-provider issuer and a loopback API that checks its tokens in the issuer's own store.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { isAxiosError } from 'axios';
import { TokenInsufficientScopeError, TokenModule } from '../libs/token/src/index.js';
import { oidcClient, startOidcTestBed, statusOfRefusal, type OidcTestBed } from './support/oidc-test-bed.js';
import { rejection } from './support/rejection.js';

const SECRET = 'Ch-e2e-SECRET-canary.1f6c_u';

describe('RFC 6750 challenges (axios and fetch) vs oidc-provider', () => {
  let bed: OidcTestBed;

  beforeAll(async () => {
    bed = await startOidcTestBed({
      scopes: ['orders:read', 'orders:write'],
      clients: [oidcClient('shop', { client_secret: SECRET, scope: 'orders:read orders:write' })],
      imports: (issuer, [api]) => [
        TokenModule.forRoot({
          refresh: { enabled: false },
          providers: {
            orders: {
              type: 'oauth2',
              issuer: issuer.issuer,
              clientId: 'shop',
              clientSecret: SECRET,
              scope: 'orders:read',
              baseUrls: [api.origin],
            },
          },
        }),
      ],
    });
  });
  afterAll(() => bed?.close());
  beforeEach(() => bed.api.reset());

  const request = (client: 'axios' | 'fetch', path: string) =>
    bed.send(client, `${bed.api.origin}${path}`, { provider: 'orders' });
  const tokenRequests = () => bed.issuer.tokenCalls.length;

  /**
   * Revokes the cached token at the issuer: the API will answer invalid_token. The token may be one
   * an earlier case's 401 renewal brought and the API accepted: its rejection is a revocation too.
   */
  async function revokeCached(): Promise<string> {
    const { token } = await bed.tokens.getToken('orders');
    await (await bed.issuer.provider.ClientCredentials.find(token))!.destroy();
    return token;
  }

  describe.each(['axios', 'fetch'] as const)('%s', (client) => {
    it('invalid_token (among several challenges in one header) → evict, one new token, retried once', async () => {
      const revoked = await revokeCached();
      const before = tokenRequests();
      await expect(request(client, '/orders/orders:read')).resolves.toBe(200);
      expect(tokenRequests() - before).toBe(1);
      expect(bed.api.seen.map((seen) => seen.status)).toEqual([401, 200]);
      expect(bed.api.seen[0].authorization).toBe(`Bearer ${revoked}`);
      expect((await bed.tokens.getToken('orders')).token).not.toBe(revoked);
    });

    it('100 concurrent requests refused with invalid_token → one token request', async () => {
      await revokeCached();
      const before = tokenRequests();
      const statuses = await Promise.all(
        Array.from({ length: 100 }, () => request(client, '/orders/orders:read')),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(tokenRequests() - before).toBe(1);
    });

    it('a token a 401 renewal brought, accepted by the API and later revoked: 50 concurrent 401s → one token request, every caller 200', async () => {
      await revokeCached();
      await expect(request(client, '/orders/orders:read')).resolves.toBe(200); // the renewal's token, accepted
      const renewed = await revokeCached();
      const before = tokenRequests();
      const statuses = await Promise.all(
        Array.from({ length: 50 }, () => request(client, '/orders/orders:read').catch(statusOfRefusal)),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(tokenRequests() - before).toBe(1);
      expect((await bed.tokens.getToken('orders')).token).not.toBe(renewed);
    });

    it('insufficient_scope (403) → a typed error naming the scope asked for; no refresh, no retry', async () => {
      await bed.tokens.getToken('orders');
      const before = tokenRequests();
      const error = await rejection(request(client, '/orders/orders:write'));
      expect(error).toBeInstanceOf(TokenInsufficientScopeError);
      expect(error).toMatchObject({
        provider: 'orders',
        status: 403,
        requiredScope: 'orders:write',
        origin: bed.api.origin,
      });
      expect((error as Error).message).toContain('it asks for scope "orders:write"');
      expect(tokenRequests()).toBe(before);
      expect(bed.api.seen).toHaveLength(1);
    });

    it('a 401 whose challenge does not parse → as before: evict and retry once', async () => {
      await bed.tokens.getToken('orders');
      bed.api.malformedChallenge = true;
      const before = tokenRequests();
      const outcome = await request(client, '/orders/orders:read').catch(statusOfRefusal);
      expect(outcome).toBe(401);
      expect(bed.api.seen.map((seen) => seen.status)).toEqual([401, 401]);
      expect(tokenRequests() - before).toBe(1);
    });
  });

  it('a 403 without insufficient_scope stays the plain 403 it was, without retry', async () => {
    await bed.tokens.getToken('orders');
    const before = tokenRequests();
    expect((await bed.tokenFetch.fetch(`${bed.api.origin}/forbidden`, { token: 'orders' })).status).toBe(403);
    const error = await rejection(bed.http.axiosRef.get(`${bed.api.origin}/forbidden`, { token: 'orders' }));
    expect(isAxiosError(error) && error.response?.status).toBe(403);
    expect(bed.api.seen).toHaveLength(2);
    expect(tokenRequests()).toBe(before);
  });
});
