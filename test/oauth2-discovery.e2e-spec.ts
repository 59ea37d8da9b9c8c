/**
 * `issuer` instead of `tokenUrl` (RFC 8414 / OpenID Connect Discovery) against panva's oidc-provider.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigModule, registerAs } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenModule, TokenService, tokenConfigFromEnv } from '../libs/token/src/index.js';
import { ManualClock } from '../libs/token/src/testing/index.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import {
  InvalidTokenOptionsError,
  TokenAcquisitionError,
  TokenRequestError,
} from '../libs/token/src/core/token.errors.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { oidcClient } from './support/oidc-test-bed.js';
import { rejection } from './support/rejection.js';

const SECRET = 'Dc-e2e-SECRET-canary.7d1e_q';

/** Serves one JSON document at every path: a metadata document an attacker or a typo controls. */
async function serveDocument(
  document: (origin: string) => unknown,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(document(origin)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('oauth2 discovery vs oidc-provider', () => {
  let server: OidcServer;
  beforeAll(async () => {
    server = await startOidcServer({
      clients: [
        oidcClient('svc', { client_secret: SECRET }),
        oidcClient('post-only', { client_secret: SECRET, token_endpoint_auth_method: 'client_secret_post' }),
      ],
    });
  });
  afterAll(() => server.close());

  it('finds the token endpoint from the issuer; 100 concurrent callers → one discovery, one token request', async () => {
    const env = {
      TOKEN__PROVIDERS__IDP__TYPE: 'oauth2',
      TOKEN__PROVIDERS__IDP__ISSUER: server.issuer,
      TOKEN__PROVIDERS__IDP__CLIENT_ID: 'svc',
      TOKEN__PROVIDERS__IDP__CLIENT_SECRET: SECRET,
      TOKEN__PROVIDERS__IDP__DISCOVERY__TTL_MS: '60000',
      TOKEN__PROVIDERS__IDP__DISCOVERY__REQUIRED_AT_STARTUP: 'true',
    };
    const discoveriesBefore = server.discoveryCalls();
    const tokenCallsBefore = server.tokenCalls.length;
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [registerAs('token', () => tokenConfigFromEnv(env))],
        }),
        TokenModule.forRoot({ refresh: { enabled: false } }),
      ],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    const infos = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken('idp')));
    expect(new Set(infos.map((info) => info.token)).size).toBe(1);
    expect(await server.provider.ClientCredentials.find(infos[0].token)).toMatchObject({ clientId: 'svc' });
    expect(server.discoveryCalls() - discoveriesBefore).toBe(1);
    expect(server.tokenCalls.slice(tokenCallsBefore)).toEqual([
      { grantType: 'client_credentials', status: 200, dpop: false },
    ]);
    await moduleRef.close();
  });

  it('metadata is reused within discovery.ttlMs and fetched again after it', async () => {
    const clock = new ManualClock();
    const strategy = new OAuth2Strategy(
      {
        issuer: server.issuer,
        clientId: 'svc',
        clientSecret: SECRET,
        discovery: { ttlMs: 60_000 },
        useRefreshToken: false,
      },
      clock,
    );
    const before = server.discoveryCalls();
    await strategy.generate();
    clock.advance(59_000);
    await strategy.generate();
    expect(server.discoveryCalls() - before).toBe(1);
    clock.advance(2_000);
    await strategy.generate();
    expect(server.discoveryCalls() - before).toBe(2);
  });

  it('without clientAuth, picks client_secret_post when that is all the issuer lists', async () => {
    const served = await serveDocument((origin) => ({
      issuer: origin,
      token_endpoint: server.tokenUrl,
      token_endpoint_auth_methods_supported: ['client_secret_post'],
    }));
    try {
      const strategy = new OAuth2Strategy({
        issuer: served.origin,
        clientId: 'post-only',
        clientSecret: SECRET,
      });
      const info = await strategy.generate();
      expect(await server.provider.ClientCredentials.find(info.token)).toMatchObject({
        clientId: 'post-only',
      });
    } finally {
      await served.close();
    }
  });

  it('refuses a configured auth method the issuer does not list, naming the field', async () => {
    const served = await serveDocument((origin) => ({
      issuer: origin,
      token_endpoint: server.tokenUrl,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    }));
    try {
      const strategy = new OAuth2Strategy({
        issuer: served.origin,
        clientId: 'svc',
        clientSecret: SECRET,
        clientAuth: 'client_secret_basic',
      });
      const error = await rejection(strategy.generate());
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({ field: 'clientAuth' });
    } finally {
      await served.close();
    }
  });

  it.each([
    [
      'an issuer that does not match (RFC 8414 §3.3)',
      (origin: string) => ({ issuer: `${origin}/other`, token_endpoint: `${origin}/token` }),
      'does not match',
    ],
    ['no token_endpoint', (origin: string) => ({ issuer: origin }), '"token_endpoint" is missing'],
    [
      'a plain-http token_endpoint off loopback',
      (origin: string) => ({ issuer: origin, token_endpoint: 'http://auth.example.com/token' }),
      'must use https',
    ],
  ])('metadata with %s is refused, naming the issuer, and never used', async (_label, document, reason) => {
    const served = await serveDocument(document);
    try {
      const error = await rejection(
        new OAuth2Strategy({ issuer: served.origin, clientId: 'svc', clientSecret: SECRET }).generate(),
      );
      expect(error).toBeInstanceOf(TokenRequestError);
      expect((error as Error).message).toContain(`discovery of issuer ${served.origin}/ failed`);
      expect((error as Error).message).toContain(reason);
    } finally {
      await served.close();
    }
  });

  it('an issuer down at start-up: the app starts, calls fail naming the provider, and it recovers after the backoff', async () => {
    const clock = new ManualClock();
    server.setDiscoveryDown(true);
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          TokenModule.forRoot({
            clock,
            refresh: { enabled: false },
            providers: {
              idp: { type: 'oauth2', issuer: server.issuer, clientId: 'svc', clientSecret: SECRET },
            },
          }),
        ],
      }).compile();
      const tokens = moduleRef.get(TokenService);
      const error = await rejection(tokens.getToken('idp'));
      expect(error).toBeInstanceOf(TokenAcquisitionError);
      expect((error as Error).message).toMatch(
        /token provider "idp".*discovery of issuer .* failed: .* answered 503/,
      );
      server.setDiscoveryDown(false);
      // Within the backoff window the last failure is returned without asking the issuer again.
      const calls = server.discoveryCalls();
      await rejection(tokens.getToken('idp'));
      expect(server.discoveryCalls()).toBe(calls);
      clock.advance(2_000);
      await expect(tokens.getToken('idp')).resolves.toMatchObject({ tokenType: 'Bearer' });
      await moduleRef.close();
    } finally {
      server.setDiscoveryDown(false);
    }
  });

  it('an issuer down at start-up is not fetched again after app.close() or unregister()', async () => {
    server.setDiscoveryDown(true);
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          TokenModule.forRoot({
            refresh: { enabled: false },
            providers: {
              idp: { type: 'oauth2', issuer: server.issuer, clientId: 'svc', clientSecret: SECRET },
            },
          }),
        ],
      }).compile();
      await moduleRef.init();
      const tokens = moduleRef.get(TokenService);
      const registered = new OAuth2Strategy({ issuer: server.issuer, clientId: 'svc', clientSecret: SECRET });
      expect(await registered.discovery?.warmUp()).toBeInstanceOf(TokenRequestError);
      tokens.register('late', registered);
      expect(tokens.unregister('late')).toBe(true);
      await moduleRef.close();
      const calls = server.discoveryCalls();
      // Both had a background retry due after 1 s; closed, neither may fire. Three times that long:
      // on a loaded machine a retry that wrongly survived could fire late.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(server.discoveryCalls()).toBe(calls);
    } finally {
      server.setDiscoveryDown(false);
    }
  });

  it('with discovery.requiredAtStartup an issuer down stops start-up, naming the provider', async () => {
    server.setDiscoveryDown(true);
    try {
      const error = await rejection(
        Test.createTestingModule({
          imports: [
            TokenModule.forRoot({
              providers: {
                idp: {
                  type: 'oauth2',
                  issuer: server.issuer,
                  clientId: 'svc',
                  clientSecret: SECRET,
                  discovery: { requiredAtStartup: true },
                },
              },
            }),
          ],
        }).compile(),
      );
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect((error as Error).message).toMatch(/^token provider "idp": discovery of issuer .* failed/);
    } finally {
      server.setDiscoveryDown(false);
    }
  });

  it.each([
    [
      { tokenUrl: 'https://a.example/token', issuer: 'https://a.example' },
      'exactly one of "tokenUrl" and "issuer"',
    ],
    [{}, 'exactly one of "tokenUrl" and "issuer"'],
    [{ issuer: 'http://auth.example.com' }, 'must use https'],
    [{ tokenUrl: 'https://a.example/token', discovery: { ttlMs: 1000 } }, 'needs "issuer"'],
  ])('config %j is refused', (config, message) => {
    expect(() => new OAuth2Strategy({ clientId: 'svc', clientSecret: SECRET, ...config })).toThrow(message);
  });
});
