/**
 * RFC 6750 challenges on 401/403 through the axios interceptor and the fetch wrapper, against an
 * oidc-provider issuer and a loopback API that checks its tokens in the issuer's own store.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import { isAxiosError } from 'axios';
import {
  TokenFetch,
  TokenInsufficientScopeError,
  TokenModule,
  TokenService,
} from '../libs/token/src/index.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { startResourceServer, type ResourceServer } from './support/oidc-resource-server.js';
import { rejection } from './support/rejection.js';

const SECRET = 'Ch-e2e-SECRET-canary.1f6c_u';

describe('RFC 6750 challenges (axios and fetch) vs oidc-provider', () => {
  let issuer: OidcServer;
  let api: ResourceServer;
  let app: TestingModule;
  let tokens: TokenService;
  let http: HttpService;
  let tokenFetch: TokenFetch;

  beforeAll(async () => {
    issuer = await startOidcServer({
      scopes: ['orders:read', 'orders:write'],
      clients: [
        {
          client_id: 'shop',
          client_secret: SECRET,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          scope: 'orders:read orders:write',
        },
      ],
    });
    api = await startResourceServer(issuer.provider);
    app = await Test.createTestingModule({
      imports: [
        HttpModule,
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
    }).compile();
    await app.init();
    tokens = app.get(TokenService);
    http = app.get(HttpService);
    tokenFetch = app.get(TokenFetch);
  });
  afterAll(async () => {
    await app?.close();
    await api?.close();
    await issuer?.close();
  });
  beforeEach(() => {
    api.seen.length = 0;
    api.malformedChallenge = false;
  });

  const clients = {
    axios: async (path: string) =>
      (await http.axiosRef.get(`${api.origin}${path}`, { token: 'orders' })).status,
    fetch: async (path: string) =>
      (await tokenFetch.fetch(`${api.origin}${path}`, { token: 'orders' })).status,
  };
  const tokenRequests = () => issuer.tokenCalls.length;

  /**
   * Revokes the cached token at the issuer: the API will answer invalid_token. The token is first
   * replaced by an ordinary refresh: each case starts as production would, with a token that no
   * earlier 401 renewal brought (a renewed token rejected again starts the renewal backoff).
   */
  async function revokeCached(): Promise<string> {
    const { token } = await tokens.refreshToken('orders');
    await (await issuer.provider.ClientCredentials.find(token))!.destroy();
    return token;
  }

  describe.each(['axios', 'fetch'] as const)('%s', (client) => {
    it('invalid_token (among several challenges in one header) → evict, one new token, retried once', async () => {
      const revoked = await revokeCached();
      const before = tokenRequests();
      await expect(clients[client]('/orders/orders:read')).resolves.toBe(200);
      expect(tokenRequests() - before).toBe(1);
      expect(api.seen.map((seen) => seen.status)).toEqual([401, 200]);
      expect(api.seen[0].authorization).toBe(`Bearer ${revoked}`);
      expect((await tokens.getToken('orders')).token).not.toBe(revoked);
    });

    it('100 concurrent requests refused with invalid_token → one token request', async () => {
      await revokeCached();
      const before = tokenRequests();
      const statuses = await Promise.all(
        Array.from({ length: 100 }, () => clients[client]('/orders/orders:read')),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(tokenRequests() - before).toBe(1);
    });

    it('insufficient_scope (403) → a typed error naming the scope asked for; no refresh, no retry', async () => {
      await tokens.getToken('orders');
      const before = tokenRequests();
      const error = await rejection(clients[client]('/orders/orders:write'));
      expect(error).toBeInstanceOf(TokenInsufficientScopeError);
      expect(error).toMatchObject({
        provider: 'orders',
        status: 403,
        requiredScope: 'orders:write',
        origin: api.origin,
      });
      expect((error as Error).message).toContain('it asks for scope "orders:write"');
      expect(tokenRequests()).toBe(before);
      expect(api.seen).toHaveLength(1);
    });

    it('a 401 whose challenge does not parse → as before: evict and retry once', async () => {
      await tokens.refreshToken('orders'); // a token from an ordinary refresh, as in revokeCached()
      api.malformedChallenge = true;
      const before = tokenRequests();
      const outcome = await clients[client]('/orders/orders:read').catch((error: unknown) =>
        isAxiosError(error) ? error.response?.status : error,
      );
      expect(outcome).toBe(401);
      expect(api.seen.map((seen) => seen.status)).toEqual([401, 401]);
      expect(tokenRequests() - before).toBe(1);
    });
  });

  it('a 403 without insufficient_scope stays the plain 403 it was, without retry', async () => {
    await tokens.getToken('orders');
    const before = tokenRequests();
    expect((await tokenFetch.fetch(`${api.origin}/forbidden`, { token: 'orders' })).status).toBe(403);
    const error = await rejection(http.axiosRef.get(`${api.origin}/forbidden`, { token: 'orders' }));
    expect(isAxiosError(error) && error.response?.status).toBe(403);
    expect(api.seen).toHaveLength(2);
    expect(tokenRequests()).toBe(before);
  });
});
