/**
 * Issue 19 rows 7 and 8: start-up refuses what could only fail later, or send the client's
 * credentials where the configuration never pointed. No packet leaves the machine: the connection
 * guard refuses (and counts) every connection this process tries to a host that is not loopback.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { InvalidTokenOptionsError, TokenModule, TokenService } from '../libs/token/src/index.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { TokenRequestError } from '../libs/token/src/core/token.errors.js';
import { guardConnections, type ConnectionGuard } from './support/connection-guard.js';
import { sendJson, startLoopbackServer, type LoopbackServer } from './support/oauth2-loopback-server.js';
import { rejection } from './support/rejection.js';
import { makeTestCertificates, type TestCertificates } from './support/test-certificates.js';

const SECRET = 'St-e2e-SECRET-canary.4b9c_w';

let guard: ConnectionGuard;
let server: LoopbackServer;
let certs: TestCertificates;
/** What the metadata says next, as a function of the issuer it is served for. */
let metadata: (issuer: string) => Record<string, unknown>;

beforeAll(async () => {
  // `idp.test` is an issuer off loopback by its name; its server is the loopback one.
  guard = guardConnections({ 'idp.test': '127.0.0.1' });
  certs = makeTestCertificates();
  server = await startLoopbackServer((request, res) => {
    if (request.path.endsWith('/.well-known/openid-configuration')) {
      const host = request.headers.host!;
      sendJson(res, 200, metadata(`http://${host}`));
    } else if (request.path === '/token') {
      sendJson(res, 200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 });
    } else sendJson(res, 404, {});
  });
});
afterAll(async () => {
  await server.close();
  guard.restore();
});
afterEach(() => {
  // Whatever a test did, nothing may have tried to leave the machine.
  expect(guard.refused.splice(0)).toEqual([]);
});

const port = () => new URL(server.origin).port;
const tokenRequests = () => server.requests.filter((request) => request.path === '/token').length;

function startModule(provider: Record<string, unknown>) {
  return Test.createTestingModule({
    imports: [
      TokenModule.forRoot({
        refresh: { enabled: false },
        providers: { idp: { type: 'oauth2', clientId: 'svc', clientSecret: SECRET, ...provider } as never },
      }),
    ],
  }).compile();
}

it('the guard refuses and counts a connection off loopback, from fetch and from node:https', async () => {
  await rejection(fetch('https://169.254.169.254/latest/meta-data/'));
  const { request } = await import('node:https');
  await new Promise<void>((resolve) =>
    request('https://[fe80::1]/x')
      .on('error', () => resolve())
      .end(),
  );
  expect(guard.refused.splice(0)).toEqual(['169.254.169.254', 'fe80::1']);
});

describe('row 8: discovery metadata naming a link-local or foreign loopback token endpoint', () => {
  it.each([
    ['token_endpoint', 'https://169.254.169.254/oauth/token', 'link-local'],
    ['token_endpoint', 'https://[fe80::1]/oauth/token', 'link-local'],
    ['token_endpoint', 'https://[::ffff:169.254.169.254]/oauth/token', 'link-local'],
    ['mtls_endpoint_aliases.token_endpoint', 'https://169.254.169.254/mtls/token', 'link-local'],
  ])(
    'row 8: "%s" %s from a loopback issuer stops start-up naming the provider and the field; 0 connection attempts',
    async (field, endpoint, reason) => {
      metadata = (issuer) =>
        field === 'token_endpoint'
          ? { issuer, token_endpoint: endpoint }
          : {
              issuer,
              token_endpoint: `${issuer}/token`,
              mtls_endpoint_aliases: { token_endpoint: endpoint },
            };
      const before = tokenRequests();
      const error = await rejection(startModule({ issuer: server.origin }));
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({ provider: 'idp', field });
      expect((error as Error).message).toMatch(
        new RegExp(
          `^token provider "idp": discovery of issuer .* failed: the metadata "${field}" is a ${reason}`,
        ),
      );
      expect((error as Error).message).not.toContain(SECRET);
      expect(tokenRequests()).toBe(before);
    },
  );

  it('row 8: a strategy built by hand refuses the metadata before any token request; 0 connection attempts', async () => {
    metadata = (issuer) => ({ issuer, token_endpoint: 'https://169.254.169.254/oauth/token' });
    const strategy = new OAuth2Strategy({ issuer: server.origin, clientId: 'svc', clientSecret: SECRET });
    try {
      const error = await rejection(strategy.generate());
      expect(error).toBeInstanceOf(TokenRequestError);
      expect((error as Error).message).toMatch(/"token_endpoint" is a link-local address/);
    } finally {
      strategy.close();
    }
  });

  it('row 8: a loopback token_endpoint from an issuer off loopback stops start-up', async () => {
    metadata = () => ({ issuer: `http://idp.test:${port()}`, token_endpoint: `${server.origin}/token` });
    const before = tokenRequests();
    const error = await rejection(
      startModule({ issuer: `http://idp.test:${port()}`, allowInsecureHttp: true }),
    );
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ provider: 'idp', field: 'token_endpoint' });
    expect((error as Error).message).toMatch(
      /is a loopback address named by an issuer that is not on this machine/,
    );
    expect(tokenRequests()).toBe(before);
  });

  it('a loopback token_endpoint from a loopback issuer is used as before', async () => {
    metadata = (issuer) => ({ issuer, token_endpoint: `${issuer}/token` });
    const moduleRef = await startModule({ issuer: server.origin });
    await expect(moduleRef.get(TokenService).getToken('idp')).resolves.toMatchObject({ token: 'at-1' });
    await moduleRef.close();
  });

  it('discovery.allowLocalEndpoints accepts either (and the token is got from the loopback one)', async () => {
    metadata = () => ({ issuer: `http://idp.test:${port()}`, token_endpoint: `${server.origin}/token` });
    const foreign = await startModule({
      issuer: `http://idp.test:${port()}`,
      allowInsecureHttp: true,
      discovery: { allowLocalEndpoints: true },
    });
    await expect(foreign.get(TokenService).getToken('idp')).resolves.toMatchObject({ token: 'at-1' });
    await foreign.close();
    metadata = (issuer) => ({ issuer, token_endpoint: 'https://169.254.169.254/oauth/token' });
    // Start-up only: a call would try 169.254.169.254, which the guard would refuse and count.
    const linkLocal = await startModule({ issuer: server.origin, discovery: { allowLocalEndpoints: true } });
    await linkLocal.close();
  });
});

describe('row 7: an mTLS provider whose token endpoint is plain http', () => {
  const mtls = () => ({ certificate: certs.client.cert, privateKey: certs.client.key, ca: certs.ca });

  it('row 7: a plain-http loopback tokenUrl with mtls stops start-up naming the provider and "tokenUrl"', async () => {
    const error = await rejection(
      startModule({
        tokenUrl: server.tokenUrl,
        clientAuth: 'tls_client_auth',
        clientSecret: undefined,
        mtls: mtls(),
      }),
    );
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ provider: 'idp', field: 'tokenUrl' });
    expect((error as Error).message).toMatch(/^token provider "idp": "tokenUrl" must use https with "mtls"/);
  });

  it.each([
    ['token_endpoint', (issuer: string) => ({ issuer, token_endpoint: `${issuer}/token` })],
    [
      'mtls_endpoint_aliases.token_endpoint',
      (issuer: string) => ({
        issuer,
        token_endpoint: 'https://127.0.0.1:1/token',
        mtls_endpoint_aliases: { token_endpoint: `${issuer}/token` },
      }),
    ],
  ])(
    'row 7: a discovered plain-http "%s" where the certificate goes stops start-up',
    async (field, document) => {
      metadata = document;
      const before = tokenRequests();
      const error = await rejection(startModule({ issuer: server.origin, mtls: mtls() }));
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({ provider: 'idp', field });
      expect((error as Error).message).toMatch(new RegExp(`"${field}" must use https: .*client certificate`));
      expect(tokenRequests()).toBe(before);
    },
  );
});
