/**
 * mTLS client authentication and certificate-bound tokens (RFC 8705) against oidc-provider behind
 * a loopback TLS listener that asks for client certificates; certificates made with `openssl`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import { exportJWK, importX509 } from 'jose';
import { TokenModule, TokenService } from '../libs/token/src/index.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import {
  InvalidTokenOptionsError,
  TokenEndpointError,
  TokenEndpointRetryLaterError,
  TokenRequestError,
  TokenSenderConstraintError,
} from '../libs/token/src/core/token.errors.js';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { oidcClient, useSameRealmStructuredClone } from './support/oidc-test-bed.js';
import { makeTestCertificates, type TestCertificates } from './support/test-certificates.js';
import { rejection } from './support/rejection.js';

describe('mTLS (RFC 8705) vs oidc-provider', () => {
  let certs: TestCertificates;
  let issuer: OidcServer;
  let api: Server;
  let apiOrigin: string;
  const apiSeen: { bound: boolean; presented: boolean; status: number }[] = [];

  useSameRealmStructuredClone();

  beforeAll(async () => {
    certs = makeTestCertificates();
    const jwk = await exportJWK(await importX509(certs.client.cert, 'ES256', { extractable: true }));
    const der = new X509Certificate(certs.client.cert).raw.toString('base64');
    issuer = await startOidcServer({
      tls: { ...certs.server, ca: certs.ca },
      clients: [
        oidcClient('shop-pki', {
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_certificate_bound_access_tokens: true,
          tls_client_auth_subject_dn: certs.client.subject,
        }),
        oidcClient('shop-self-signed', {
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          tls_client_certificate_bound_access_tokens: true,
          jwks: { keys: [{ ...jwk, x5c: [der] }] },
        }),
      ],
    });
    // The API checks the token's x5t#S256 against the certificate of the connection it came on.
    api = createServer(
      { ...certs.server, ca: certs.ca, requestCert: true, rejectUnauthorized: false },
      (request, response) => {
        void (async () => {
          const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
          const found = await issuer.provider.ClientCredentials.find(token);
          const raw = (request.socket as TLSSocket).getPeerCertificate()?.raw;
          const presented = raw ? createHash('sha256').update(raw).digest('base64url') : undefined;
          const bound = found?.['x5t#S256'] !== undefined;
          const status = found && bound && found['x5t#S256'] === presented ? 200 : 401;
          apiSeen.push({ bound, presented: presented !== undefined, status });
          response.writeHead(
            status,
            status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {},
          );
          response.end();
        })();
      },
    );
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiOrigin = `https://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    api?.closeAllConnections();
    await new Promise((resolve) => api?.close(resolve));
    await issuer?.close();
  });

  const mtls = () => ({ certificate: certs.client.cert, privateKey: certs.client.key, ca: certs.ca });

  it.each(['tls_client_auth', 'self_signed_tls_client_auth'] as const)(
    "%s through the issuer's mtls_endpoint_aliases; a certificate-bound token",
    async (clientAuth) => {
      const clientId = clientAuth === 'tls_client_auth' ? 'shop-pki' : 'shop-self-signed';
      const calls = issuer.tokenCalls.length;
      const info = await new OAuth2Strategy({
        issuer: issuer.issuer,
        clientId,
        clientAuth,
        mtls: mtls(),
      }).generate();
      const stored = await issuer.provider.ClientCredentials.find(info.token);
      expect(stored?.clientId).toBe(clientId);
      const thumbprint = createHash('sha256')
        .update(new X509Certificate(certs.client.cert).raw)
        .digest('base64url');
      expect(stored?.['x5t#S256']).toBe(thumbprint);
      expect(issuer.tokenCalls.slice(calls)).toEqual([
        { grantType: 'client_credentials', status: 200, dpop: false },
      ]);
    },
  );

  /** An app whose `orders` provider gets certificate-bound tokens for the API origin. */
  const boundTokenApp = async (): Promise<TestingModule> => {
    const app = await Test.createTestingModule({
      imports: [
        HttpModule,
        TokenModule.forRoot({
          refresh: { enabled: false },
          providers: {
            orders: {
              type: 'oauth2',
              issuer: issuer.issuer,
              clientId: 'shop-pki',
              clientAuth: 'tls_client_auth',
              mtls: mtls(),
              baseUrls: [apiOrigin],
            },
          },
        }),
      ],
    }).compile();
    await app.init();
    return app;
  };

  it('the axios integration sends requests with the bound token over the same certificate; 100 callers → one token', async () => {
    const app = await boundTokenApp();
    try {
      const http = app.get(HttpService);
      const calls = issuer.tokenCalls.length;
      apiSeen.length = 0;
      const statuses = await Promise.all(
        Array.from(
          { length: 100 },
          async () => (await http.axiosRef.get(`${apiOrigin}/orders`, { token: 'orders' })).status,
        ),
      );
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(issuer.tokenCalls.length - calls).toBe(1);
      expect(apiSeen.every((seen) => seen.bound && seen.presented)).toBe(true);
      // Without the certificate, the same token is refused: it is bound.
      const { token } = await app.get(TokenService).getToken('orders');
      const plain = await fetch(`${apiOrigin}/orders`, {
        headers: { authorization: `Bearer ${token}` },
      }).catch(() => undefined);
      expect(plain?.status ?? 'refused').not.toBe(200);
      // An axios error from a certificate-bound request, inspected deeper than a logger would (the
      // key sat at depth 4; depth Infinity prints >100 MB of sockets):
      // the client certificate's private key is reachable from no field of it.
      const failed = await http.axiosRef
        .get(`${apiOrigin}/orders`, { token: 'orders', validateStatus: () => false })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failed).toBeDefined();
      const dump = inspect(failed, { depth: 8 });
      expect(dump).toContain('agent');
      expect(dump).not.toContain('PRIVATE KEY');
      for (const line of certs.client.key.split('\n').slice(1, -2)) expect(dump).not.toContain(line);
    } finally {
      await app.close();
    }
  });

  it("axios' fetch adapter refuses a certificate-bound provider, naming it; no token request, no API call (the fetch wrapper presents the certificate: http-fetch-mtls.e2e-spec.ts)", async () => {
    const app = await boundTokenApp();
    try {
      const calls = issuer.tokenCalls.length;
      apiSeen.length = 0;
      const viaAxiosFetch = await rejection(
        app.get(HttpService).axiosRef.get(`${apiOrigin}/orders`, { token: 'orders', adapter: 'fetch' }),
      );
      expect(viaAxiosFetch).toBeInstanceOf(TokenSenderConstraintError);
      expect((viaAxiosFetch as Error).message).toContain('token provider "orders"');
      expect(apiSeen).toEqual([]);
      expect(issuer.tokenCalls.length - calls).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('unregister() closes the kept-alive certificate connections', async () => {
    const tokens = new TokenService();
    const strategy = new OAuth2Strategy({
      issuer: issuer.issuer,
      clientId: 'shop-pki',
      clientAuth: 'tls_client_auth',
      mtls: mtls(),
    });
    tokens.register('orders', strategy);
    await tokens.getToken('orders');
    const agent = strategy.senderConstraint!.mtlsAgent!;
    const open = () =>
      Object.values(agent.freeSockets).flat().length + Object.values(agent.sockets).flat().length;
    expect(open()).toBeGreaterThan(0);
    tokens.unregister('orders');
    // Sockets leave the agent on their 'close' event; wait for it (bounded), do not time it.
    for (let i = 0; i < 1_000 && open() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(open()).toBe(0);
  });

  describe('a token endpoint behind mTLS', () => {
    let endpoint: Server;
    let tokenUrl: string;
    let answer: (response: ServerResponse) => void;
    beforeAll(async () => {
      endpoint = createServer({ ...certs.server, ca: certs.ca, requestCert: true }, (request, response) => {
        request.resume();
        request.on('end', () => answer(response));
      });
      await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
      tokenUrl = `https://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`;
    });
    afterAll(async () => {
      endpoint?.closeAllConnections();
      await new Promise((resolve) => endpoint?.close(resolve));
    });
    const strategy = (timeoutMs = 5_000) =>
      new OAuth2Strategy({
        tokenUrl,
        clientId: 'shop-pki',
        clientAuth: 'tls_client_auth',
        mtls: mtls(),
        timeoutMs,
      });

    it('timeoutMs bounds the whole exchange: a body dripped byte by byte is cut', async () => {
      const drips: NodeJS.Timeout[] = [];
      answer = (response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{');
        drips.push(setInterval(() => response.write(' '), 50));
      };
      const client = strategy(400);
      try {
        const error = await rejection(client.generate());
        expect(error).toBeInstanceOf(TokenRequestError);
        expect((error as Error).message).toContain('timed out after 400 ms');
      } finally {
        drips.forEach(clearInterval);
        client.close();
      }
    });

    it('Retry-After of a 503 is read as it is without mTLS', async () => {
      answer = (response) => {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '7' });
        response.end('{"error":"temporarily_unavailable"}');
      };
      const client = strategy();
      try {
        const error = await rejection(client.generate());
        expect(error).toBeInstanceOf(TokenEndpointRetryLaterError);
        expect(error).toMatchObject({ status: 503, retryAfterMs: 7_000 });
      } finally {
        client.close();
      }
    });
  });

  it('self_signed_tls_client_auth with a certificate the client did not register → invalid_client (RFC 8705 §2.2)', async () => {
    const strategy = new OAuth2Strategy({
      issuer: issuer.issuer,
      clientId: 'shop-self-signed',
      clientAuth: 'self_signed_tls_client_auth',
      mtls: { certificate: certs.stranger.cert, privateKey: certs.stranger.key, ca: certs.ca },
    });
    await expect(rejection(strategy.generate())).resolves.toMatchObject({
      status: 401,
      error: 'invalid_client',
    });
  });

  it.each([
    ['a certificate whose subject does not match', 'stranger'],
    ['a certificate with the right subject that the trusted CA did not sign', 'rogue'],
  ] as const)('tls_client_auth with %s → invalid_client (RFC 8705 §2.1)', async (_label, which) => {
    const strategy = new OAuth2Strategy({
      issuer: issuer.issuer,
      clientId: 'shop-pki',
      clientAuth: 'tls_client_auth',
      mtls: { certificate: certs[which].cert, privateKey: certs[which].key, ca: certs.ca },
    });
    const error = await rejection(strategy.generate());
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
  });

  it('config: mtls required for the tls methods; a key that does not match the certificate stops construction', () => {
    expect(
      () =>
        new OAuth2Strategy({ issuer: issuer.issuer, clientId: 'shop-pki', clientAuth: 'tls_client_auth' }),
    ).toThrow('"mtls"');
    const mismatched = () =>
      new OAuth2Strategy({
        issuer: issuer.issuer,
        clientId: 'shop-pki',
        clientAuth: 'tls_client_auth',
        mtls: { certificate: certs.client.cert, privateKey: certs.stranger.key },
      });
    expect(mismatched).toThrow(InvalidTokenOptionsError);
    // The PEM is never quoted (these keys are made per run, so the suite's static secret list cannot hold them).
    const message = (() => {
      try {
        mismatched();
      } catch (error) {
        return String((error as Error).message);
      }
      return '';
    })();
    for (const pem of [certs.client.key, certs.stranger.key]) {
      const body = pem.split('\n')[1];
      expect(message).not.toContain(body);
    }
  });
});
