/**
 * `grant_types_supported` from discovery (RFC 8414 §2) against oidc-provider configured with
 * different grants: a provider whose grant the issuer does not list starts with one warning naming
 * the provider and the grant, and its token requests are still sent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { exportPKCS8, generateKeyPair } from 'jose';
import { TokenModule, TokenService, type TokenModuleOptions } from '../libs/token/src/index.js';
import { TokenAcquisitionError } from '../libs/token/src/core/token.errors.js';
import { LogCapture } from './support/log-capture.js';
import { registerJwtBearerGrant, type JwtBearerLogEntry } from './support/oidc-provider-grants.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { oidcClient } from './support/oidc-test-bed.js';
import { rejection } from './support/rejection.js';

const SECRET = 'Dc-e2e-SECRET-canary.7d1e_q';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const SERVICE_ACCOUNT = 'grants@svc.example';

/** Starts an application with `providers`, its TokenModule logging into the returned capture. */
async function start(providers: TokenModuleOptions['providers']) {
  const logs = new LogCapture();
  const app = await Test.createTestingModule({
    imports: [TokenModule.forRoot({ refresh: { enabled: false }, providers })],
  })
    .setLogger(logs)
    .compile();
  await app.init();
  const warnings = () =>
    logs.lines.filter((line) => line.startsWith('warn') && /grant_types_supported/.test(line));
  return { app, tokens: app.get(TokenService), warnings };
}

describe('grant_types_supported vs oidc-provider', () => {
  /** JWT bearer registered; client credentials off; no offline_access, so no refresh_token grant. */
  let bearerOnly: OidcServer;
  /** oidc-provider's defaults here: client credentials and refresh tokens. */
  let standard: OidcServer;
  let privateKey: string;
  const log: JwtBearerLogEntry[] = [];

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = await exportPKCS8(pair.privateKey);
    bearerOnly = await startOidcServer({
      offlineAccess: false,
      features: { clientCredentials: { enabled: false } },
      clients: [oidcClient('sa-client', { client_secret: SECRET, grant_types: [JWT_BEARER] })],
      setup: (provider) =>
        registerJwtBearerGrant(provider, { issuer: SERVICE_ACCOUNT, key: pair.publicKey }, log),
    });
    standard = await startOidcServer({ clients: [oidcClient('svc', { client_secret: SECRET })] });
  });
  afterAll(async () => {
    await bearerOnly?.close();
    await standard?.close();
  });

  const jwtBearer = () => ({ privateKey, algorithm: 'ES256' as const, issuer: SERVICE_ACCOUNT });

  it('the issuer lists the grants it is configured with', async () => {
    const metadata = async (server: OidcServer) =>
      (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
        grant_types_supported: string[];
      };
    const listed = (await metadata(bearerOnly)).grant_types_supported;
    expect(listed).toContain(JWT_BEARER);
    expect(listed).not.toContain('client_credentials');
    expect(listed).not.toContain('refresh_token');
    expect((await metadata(standard)).grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'refresh_token']),
    );
  });

  it('an unlisted grant is one warning at start-up naming the provider, the issuer and the grant; start-up goes on', async () => {
    const issuer = bearerOnly.issuer;
    const own = { type: 'oauth2' as const, issuer, clientId: 'sa-client', clientSecret: SECRET };
    const { app, tokens, warnings } = await start({
      // Client credentials: not listed. With requiredAtStartup, the warning still does not stop start-up.
      cc: { ...own, discovery: { requiredAtStartup: true } },
      sa: { ...own, jwtBearer: jwtBearer() }, // listed: no warning
      'sa-rt': { ...own, jwtBearer: jwtBearer(), useRefreshToken: true }, // refresh_token: not listed
      tx: { ...own, tokenExchange: { subjectToken: () => 'a-subject' } },
    });
    try {
      expect(warnings()).toEqual([
        `warn token provider "cc": the issuer ${issuer}/ does not list "client_credentials" in its grant_types_supported; token requests are sent anyway (servers often list their grants incompletely) TokenModule`,
        expect.stringMatching(/^warn token provider "sa-rt": .* does not list "refresh_token" in its/),
        expect.stringMatching(
          new RegExp(`^warn token provider "tx": .* does not list "${TOKEN_EXCHANGE}" in its`),
        ),
      ]);
      // The listed grant works; the unlisted one is still asked for (the server refuses it here).
      await expect(tokens.getToken('sa')).resolves.toMatchObject({ tokenType: 'Bearer' });
      const calls = bearerOnly.tokenCalls.length;
      await expect(rejection(tokens.getToken('cc'))).resolves.toBeInstanceOf(TokenAcquisitionError);
      expect(bearerOnly.tokenCalls.slice(calls)).toEqual([
        { grantType: 'client_credentials', status: 400, dpop: false },
      ]);
      // Once: token calls do not warn again.
      expect(warnings()).toHaveLength(3);
    } finally {
      await app.close();
    }
  });

  it('grants the issuer lists, refresh_token included, start without a warning', async () => {
    const { app, tokens, warnings } = await start({
      svc: {
        type: 'oauth2',
        issuer: standard.issuer,
        clientId: 'svc',
        clientSecret: SECRET,
        useRefreshToken: true,
      },
    });
    try {
      await expect(tokens.getToken('svc')).resolves.toMatchObject({ tokenType: 'Bearer' });
      expect(warnings()).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
