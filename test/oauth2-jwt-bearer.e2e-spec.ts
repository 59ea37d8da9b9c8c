/**
 * The JWT-bearer grant (RFC 7523 §2.1) against oidc-provider with the grant registered through
 * `registerGrantType`, verifying the assertion with `jose`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { exportPKCS8, generateKeyPair } from 'jose';
import { TokenModule, TokenService } from '../libs/token/src/index.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { InvalidTokenOptionsError, TokenEndpointError } from '../libs/token/src/core/token.errors.js';
import { registerJwtBearerGrant, type JwtBearerLogEntry } from './support/oidc-provider-grants.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { oidcClient } from './support/oidc-test-bed.js';
import { rejection } from './support/rejection.js';

const SECRET = 'Jb-e2e-SECRET-canary.3c9d_w';
const SERVICE_ACCOUNT = 'reports@svc.example';

describe('oauth2 jwtBearer vs oidc-provider', () => {
  let server: OidcServer;
  let privateKey: string;
  let otherKey: string;
  const log: JwtBearerLogEntry[] = [];
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = await exportPKCS8(pair.privateKey);
    otherKey = await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey);
    server = await startOidcServer({
      clients: [
        oidcClient('sa-client', {
          client_secret: SECRET,
          grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
        }),
      ],
      setup: (provider) =>
        registerJwtBearerGrant(provider, { issuer: SERVICE_ACCOUNT, key: pair.publicKey }, log),
    });
  });
  afterAll(() => server.close());

  const config = (jwtBearer: Record<string, unknown> = {}) =>
    ({
      type: 'oauth2',
      issuer: server.issuer,
      clientId: 'sa-client',
      clientSecret: SECRET,
      jwtBearer: {
        privateKey,
        algorithm: 'ES256',
        issuer: SERVICE_ACCOUNT,
        subject: 'user-42',
        ...jwtBearer,
      },
    }) as const;

  it('a signed assertion (iss, sub, aud, exp, fresh jti) gets a token the server honours; 100 callers → one request', async () => {
    const logStart = log.length;
    const calls = server.tokenCalls.length;
    const moduleRef = await Test.createTestingModule({
      imports: [TokenModule.forRoot({ refresh: { enabled: false }, providers: { sa: config() } })],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    const infos = await Promise.all(Array.from({ length: 100 }, () => tokens.getToken('sa')));
    expect(new Set(infos.map((info) => info.token)).size).toBe(1);
    expect(await server.provider.ClientCredentials.find(infos[0].token)).toMatchObject({
      clientId: 'sa-client',
    });
    expect(log.find((entry) => entry.token === infos[0].token)?.payload.sub).toBe('user-42');
    expect(server.tokenCalls.slice(calls)).toEqual([
      { grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer', status: 200, dpop: false },
    ]);
    const [{ payload }] = log.slice(logStart);
    expect(payload).toMatchObject({ iss: SERVICE_ACCOUNT, sub: 'user-42', aud: server.issuer });
    expect(payload.exp! - payload.iat!).toBe(300);
    await moduleRef.close();
  });

  it('each attempt signs a new jti: the server, which refuses replays, accepts every one', async () => {
    const strategy = new OAuth2Strategy(config());
    const logStart = log.length;
    await strategy.generate();
    await strategy.generate();
    const jtis = log.slice(logStart).map((entry) => entry.payload.jti);
    expect(jtis).toHaveLength(2);
    expect(jtis[0]).not.toBe(jtis[1]);
  });

  it.each([
    ['signed with a key the server does not trust', () => ({ privateKey: otherKey })],
    ['for another audience', () => ({ audience: 'https://elsewhere.example' })],
    ['from another issuer', () => ({ issuer: 'someone-else' })],
  ])('an assertion %s is refused with invalid_grant (RFC 7523 §3.1)', async (_label, override) => {
    const error = await rejection(new OAuth2Strategy(config(override())).generate());
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_grant' });
  });

  it.each([
    [{ privateKey: 'not a key' }, 'jwtBearer.privateKey'],
    [{ privateKey: undefined }, 'jwtBearer.privateKey'],
    [{ lifetimeSeconds: 7200 }, 'jwtBearer.lifetimeSeconds'],
  ])('config %j is refused naming %s', (override, field) => {
    const error = (() => {
      try {
        new OAuth2Strategy(config(override));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect((error as Error).message).toContain(field);
  });
});
