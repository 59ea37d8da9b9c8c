/**
 * The token-exchange grant (RFC 8693) against oidc-provider with the grant registered through
 * `registerGrantType`: the subject and actor tokens are live tokens of that server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenModule, TokenService } from '../libs/token/src/index.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import {
  InvalidTokenOptionsError,
  TokenAcquisitionError,
  TokenEndpointError,
  TokenResponseError,
} from '../libs/token/src/core/token.errors.js';
import { registerTokenExchangeGrant, type TokenExchangeLogEntry } from './support/oidc-provider-grants.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { oidcClient } from './support/oidc-test-bed.js';
import { rejection } from './support/rejection.js';

const SECRET = 'Tx-e2e-SECRET-canary.5b8a_v';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const API = 'https://orders.api.example';

const client = (id: string, grant: string) => oidcClient(id, { client_secret: SECRET, grant_types: [grant] });

describe('oauth2 tokenExchange vs oidc-provider', () => {
  let server: OidcServer;
  const log: TokenExchangeLogEntry[] = [];
  beforeAll(async () => {
    server = await startOidcServer({
      clients: [
        client('frontend', 'client_credentials'),
        client('batch-actor', 'client_credentials'),
        client('gateway', EXCHANGE),
      ],
      setup: (provider) => registerTokenExchangeGrant(provider, [API], log),
    });
  });
  afterAll(() => server.close());

  const own = (clientId: string) => ({
    type: 'oauth2' as const,
    issuer: server.issuer,
    clientId,
    clientSecret: SECRET,
  });
  const exchange = (tokenExchange: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    issuer: server.issuer,
    clientId: 'gateway',
    clientSecret: SECRET,
    audience: API,
    tokenExchange,
    ...extra,
  });
  const tokenOf = (clientId: string) => new OAuth2Strategy(own(clientId)).generate();

  it('subject and actor from other providers; audience, requested type sent; issued_token_type read back; 100 callers → one exchange', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          refresh: { enabled: false },
          providers: {
            frontend: own('frontend'),
            actor: own('batch-actor'),
            orders: {
              type: 'oauth2',
              ...exchange({
                subjectToken: { provider: 'frontend' },
                actorToken: { provider: 'actor' },
                requestedTokenType: ACCESS_TOKEN,
              }),
            },
          },
        }),
      ],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    const logStart = log.length;
    const exchangesBefore = server.tokenCalls.filter((call) => call.grantType === EXCHANGE).length;
    const infos = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken('orders')));
    expect(new Set(infos.map((info) => info.token)).size).toBe(1);
    expect(server.tokenCalls.filter((call) => call.grantType === EXCHANGE).length - exchangesBefore).toBe(1);
    expect(log.slice(logStart)).toEqual([
      {
        token: infos[0].token,
        subjectClient: 'frontend',
        actorClient: 'batch-actor',
        audience: API,
        resource: undefined,
        requestedTokenType: ACCESS_TOKEN,
      },
    ]);
    expect(infos[0].extra.issued_token_type).toBe(ACCESS_TOKEN);
    expect(await server.provider.ClientCredentials.find(infos[0].token)).toMatchObject({
      clientId: 'gateway',
    });
    await moduleRef.close();
  });

  it('a per-call subject token keys the cache: two subjects → two tokens, the same subject again → the cached one', async () => {
    const service = new TokenService();
    service.register('orders', new OAuth2Strategy(exchange({})));
    const [alice, bob] = [(await tokenOf('frontend')).token, (await tokenOf('batch-actor')).token];
    const calls = server.tokenCalls.length;
    const forAlice = await service.getToken('orders', { subjectToken: alice });
    const forBob = await service.getToken('orders', { subjectToken: bob });
    const aliceAgain = await service.getToken('orders', { subjectToken: alice });
    expect(forAlice.token).not.toBe(forBob.token);
    expect(aliceAgain.token).toBe(forAlice.token);
    expect(server.tokenCalls.length - calls).toBe(2);
    expect(log.find((entry) => entry.token === forBob.token)?.subjectClient).toBe('batch-actor');
    // The cache key never holds the subject token.
    expect(JSON.stringify(service.getStats())).not.toContain(alice);
    await service.onApplicationShutdown();
  });

  it('a callback subject token, and scope/resource/audience change the cache key', async () => {
    const strategy = new OAuth2Strategy(
      exchange(
        { subjectToken: async () => (await tokenOf('frontend')).token },
        { resource: 'https://r.example' },
      ),
    );
    const info = await strategy.generate();
    expect(log.find((entry) => entry.token === info.token)).toMatchObject({
      subjectClient: 'frontend',
      resource: 'https://r.example',
    });
    const keys = new Set([
      strategy.cacheKey,
      strategy.withParameters({ scope: 'orders:read' }).cacheKey,
      strategy.withParameters({ audience: 'https://other.example' }).cacheKey,
      strategy.withParameters({ resource: 'https://r2.example' }).cacheKey,
      strategy.withParameters({ subjectToken: 'a-subject' }).cacheKey,
      strategy.withParameters({ subjectToken: 'b-subject' }).cacheKey,
    ]);
    expect(keys.size).toBe(6);
    for (const key of keys) expect(key).not.toContain('subject');
  });

  it.each([
    [
      'a subject token the server does not know',
      { subjectToken: () => 'not-a-live-token' },
      400,
      'invalid_grant',
    ],
    [
      'an unsupported subject_token_type',
      { subjectToken: { provider: 'x' }, subjectTokenType: 'urn:example:saml' },
      400,
      'invalid_request',
    ],
  ])('%s is refused (RFC 8693 §2.2.2)', async (_label, tokenExchange, status, code) => {
    const strategy = new OAuth2Strategy(exchange(tokenExchange), undefined, {
      tokenOf: async () => (await tokenOf('frontend')).token,
    });
    const error = await rejection(strategy.generate());
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status, error: code });
  });

  it('an audience the server does not know is invalid_target (RFC 8693 §2.2.2)', async () => {
    const subject = (await tokenOf('frontend')).token;
    const strategy = new OAuth2Strategy(
      exchange({ subjectToken: () => subject }, { audience: 'https://unknown.example' }),
    );
    await expect(rejection(strategy.generate())).resolves.toMatchObject({
      status: 400,
      error: 'invalid_target',
    });
  });

  it('a response without issued_token_type is refused (RFC 8693 §2.2.1)', async () => {
    const endpoint = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ access_token: 'exchanged-token-value', token_type: 'Bearer', expires_in: 60 }),
      );
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const strategy = new OAuth2Strategy({
        tokenUrl: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`,
        clientId: 'gateway',
        clientSecret: SECRET,
        tokenExchange: { subjectToken: () => 'subject' },
      });
      await expect(rejection(strategy.generate())).resolves.toBeInstanceOf(TokenResponseError);
    } finally {
      await new Promise((resolve) => endpoint.close(resolve));
    }
  });

  it('no subject token anywhere, or a per-call subject for a provider without tokenExchange, is a typed error', async () => {
    const service = new TokenService();
    service.register('orders', new OAuth2Strategy(exchange({})));
    service.register('plain', new OAuth2Strategy(own('frontend')));
    const missing = await rejection(service.getToken('orders'));
    expect(missing).toBeInstanceOf(TokenAcquisitionError);
    expect((missing as Error).message).toContain('no "subjectToken"');
    await expect(rejection(service.getToken('plain', { subjectToken: 'x' }))).resolves.toBeInstanceOf(
      InvalidTokenOptionsError,
    );
    expect(() => new OAuth2Strategy(exchange({ actorTokenType: ACCESS_TOKEN }))).toThrow(
      'needs "actorToken"',
    );
    expect(() => new OAuth2Strategy(exchange({}, { jwtBearer: { privateKey: 'x' } }))).toThrow(
      'cannot be combined',
    );
    await service.onApplicationShutdown();
  });
});
