/**
 * Certificate-bound tokens (RFC 8705 §3) through the fetch wrapper: oidc-provider issues tokens
 * bound to the client certificate; loopback TLS APIs ask for client certificates and check the
 * binding. Certificates made with `openssl`, per run.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import { Agent as UndiciAgent } from 'undici';
import {
  TokenFetch,
  TokenModule,
  TokenService,
  createTokenFetch,
  type TokenFetchInit,
} from '../libs/token/src/index.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { makeTestCertificates, type TestCertificates } from './support/test-certificates.js';
import { useSameRealmStructuredClone } from './support/oidc-test-bed.js';

/** What an API saw of one request. */
interface Seen {
  path: string;
  /** Whether it carried an `Authorization` header. */
  token: boolean;
  /** The presented client certificate's subject CN, if any. */
  certificate: string | undefined;
  /** The token's `x5t#S256` matched the certificate of the connection (RFC 8705 §3). */
  bound: boolean;
}

describe('the fetch wrapper with certificate-bound tokens (RFC 8705)', () => {
  let certs: TestCertificates;
  let issuer: OidcServer;
  /** The provider's API (in `baseUrls`) and a foreign one, both asking for client certificates. */
  const apis: { server: Server; origin: string; seen: Seen[] }[] = [];
  const [api, foreign] = [0, 1];
  let app: TestingModule;

  useSameRealmStructuredClone();

  beforeAll(async () => {
    certs = makeTestCertificates();
    issuer = await startOidcServer({
      tls: { ...certs.server, ca: certs.ca },
      clients: [
        {
          client_id: 'shop-pki',
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_certificate_bound_access_tokens: true,
          tls_client_auth_subject_dn: certs.client.subject,
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
        },
      ],
    });
    for (let i = 0; i < 2; i++) {
      const seen: Seen[] = [];
      const server = createServer(
        { ...certs.server, ca: certs.ca, requestCert: true, rejectUnauthorized: false },
        (request, response) => {
          void (async () => {
            const peer = (request.socket as TLSSocket).getPeerCertificate();
            const presented = peer?.raw
              ? createHash('sha256').update(peer.raw).digest('base64url')
              : undefined;
            const header = request.headers.authorization;
            const found = header
              ? await issuer.provider.ClientCredentials.find(header.replace(/^Bearer /, ''))
              : undefined;
            const bound = found?.['x5t#S256'] !== undefined && found['x5t#S256'] === presented;
            const path = request.url ?? '';
            seen.push({
              path,
              token: header !== undefined,
              certificate: peer?.subject ? String(peer.subject.CN) : undefined,
              bound,
            });
            const redirect = /^\/redirect\/(\d+)\?to=(.+)$/.exec(path);
            if (redirect) {
              response.writeHead(Number(redirect[1]), { location: decodeURIComponent(redirect[2]) });
            } else if (header !== undefined && !bound) {
              response.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
            } else {
              response.writeHead(200);
            }
            request.resume();
            request.on('end', () => response.end());
          })();
        },
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      apis.push({ server, origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen });
    }
  });
  afterAll(async () => {
    for (const { server } of apis) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await issuer?.close();
  });

  beforeEach(async () => {
    for (const one of apis) one.seen.length = 0;
    app = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          refresh: { enabled: false },
          providers: {
            orders: {
              type: 'oauth2',
              issuer: issuer.issuer,
              clientId: 'shop-pki',
              clientAuth: 'tls_client_auth',
              mtls: { certificate: certs.client.cert, privateKey: certs.client.key, ca: certs.ca },
              baseUrls: [apis[api].origin],
            },
          },
        }),
      ],
    }).compile();
    await app.init();
  });
  afterEach(() => app?.close());

  /** The client certificate's subject, as the APIs see it. */
  const CLIENT = 'shop-client';
  // The APIs' certificate is from the test CA: the global fetch trusts it only through `mtls.ca`.
  const trusting = () => new UndiciAgent({ connect: { ca: certs.ca } });

  it('sends the bound token over a connection with the client certificate; 20 callers → one token', async () => {
    const calls = issuer.tokenCalls.length;
    const tokenFetch = app.get(TokenFetch);
    const statuses = await Promise.all(
      Array.from(
        { length: 20 },
        async () => (await tokenFetch.fetch(`${apis[api].origin}/orders`, { token: 'orders' })).status,
      ),
    );
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(issuer.tokenCalls.length - calls).toBe(1);
    expect(apis[api].seen).toHaveLength(20);
    expect(apis[api].seen.every((seen) => seen.token && seen.bound && seen.certificate === CLIENT)).toBe(
      true,
    );
    // A POST with a body, through createTokenFetch and a Request.
    const post = createTokenFetch(app.get(TokenService), 'orders');
    const response = await post(new Request(`${apis[api].origin}/orders`, { method: 'POST', body: '{}' }));
    expect(response.status).toBe(200);
    expect(apis[api].seen[20]).toMatchObject({ token: true, bound: true, certificate: CLIENT });
  });

  it('a request outside "baseUrls" goes without the token and without the certificate', async () => {
    const dispatcher = trusting();
    try {
      const response = await app.get(TokenFetch).fetch(`${apis[foreign].origin}/elsewhere`, {
        token: 'orders',
        dispatcher,
      } as unknown as TokenFetchInit);
      expect(response.status).toBe(200);
      expect(apis[foreign].seen).toEqual([
        { path: '/elsewhere', token: false, certificate: undefined, bound: false },
      ]);
    } finally {
      await dispatcher.close();
    }
  });

  it.each([301, 302, 303, 307, 308])(
    '%i: same-origin hops keep the token and the certificate; a hop to another origin gets neither, and the caller’s dispatcher',
    async (status) => {
      const dispatcher = trusting();
      try {
        const target = `${apis[foreign].origin}/landing`;
        const sameOrigin = `/redirect/${status}?to=${encodeURIComponent(`/redirect/${status}?to=${encodeURIComponent(target)}`)}`;
        const response = await app.get(TokenFetch).fetch(`${apis[api].origin}${sameOrigin}`, {
          token: 'orders',
          method: 'POST',
          body: '{"order":1}',
          dispatcher,
        } as unknown as TokenFetchInit);
        expect(response.status).toBe(200);
        expect(
          apis[api].seen.map(({ token, bound, certificate }) => ({ token, bound, certificate })),
        ).toEqual([
          { token: true, bound: true, certificate: CLIENT },
          { token: true, bound: true, certificate: CLIENT },
        ]);
        expect(apis[foreign].seen).toEqual([
          { path: '/landing', token: false, certificate: undefined, bound: false },
        ]);
      } finally {
        await dispatcher.close();
      }
    },
  );

  it('a redirect back to the provider’s origin after a foreign hop does not bring the token or the certificate back', async () => {
    const dispatcher = trusting();
    try {
      const back = `${apis[api].origin}/orders`;
      const viaForeign = `${apis[foreign].origin}/redirect/302?to=${encodeURIComponent(back)}`;
      const response = await app
        .get(TokenFetch)
        .fetch(`${apis[api].origin}/redirect/302?to=${encodeURIComponent(viaForeign)}`, {
          token: 'orders',
          dispatcher,
        } as unknown as TokenFetchInit);
      expect(response.status).toBe(200);
      expect(apis[api].seen.map(({ token, certificate }) => ({ token, certificate }))).toEqual([
        { token: true, certificate: CLIENT },
        { token: false, certificate: undefined },
      ]);
      expect(apis[foreign].seen.map(({ token, certificate }) => ({ token, certificate }))).toEqual([
        { token: false, certificate: undefined },
      ]);
    } finally {
      await dispatcher.close();
    }
  });

  it('a request without the token (token: false) goes without the certificate', async () => {
    const dispatcher = trusting();
    try {
      await app
        .get(TokenFetch)
        .fetch(`${apis[api].origin}/orders`, { token: false, dispatcher } as unknown as TokenFetchInit);
      expect(apis[api].seen).toEqual([
        { path: '/orders', token: false, certificate: undefined, bound: false },
      ]);
    } finally {
      await dispatcher.close();
    }
  });

  it('the dispatcher holds no readable key; unregister() destroys it', async () => {
    const tokens = new TokenService();
    const strategy = new OAuth2Strategy({
      issuer: issuer.issuer,
      clientId: 'shop-pki',
      clientAuth: 'tls_client_auth',
      mtls: { certificate: certs.client.cert, privateKey: certs.client.key, ca: certs.ca },
    });
    tokens.register('orders', strategy);
    const dispatcher = (await strategy.senderConstraint!.mtlsDispatcher!()) as UndiciAgent;
    const dump = inspect(dispatcher, { depth: 8, showHidden: true });
    expect(dump).not.toContain('PRIVATE KEY');
    for (const line of certs.client.key.split('\n').slice(1, -2)) expect(dump).not.toContain(line);
    expect(dispatcher.destroyed).toBe(false);
    tokens.unregister('orders');
    // Destroyed once the close has run (bounded wait, not timed).
    for (let i = 0; i < 1_000 && !dispatcher.destroyed; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(dispatcher.destroyed).toBe(true);
  });
});
