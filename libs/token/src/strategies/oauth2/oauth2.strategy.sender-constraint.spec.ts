import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { once } from 'node:events';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import {
  createMtlsServer,
  makeTestCertificates,
  type TestCertificates,
} from '../../testing-support/test-certificates.js';
import { rejection } from '../../testing-support/rejection.js';
import { ManualClock } from '../../core/clock.js';
import { DiscoveredEndpointRefusedError } from './oauth2-discovery.js';
import { DpopProofSigner } from './dpop-proof.js';
import { MtlsClient } from './oauth2-mtls.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

const NOW = 1_700_000_000_000;
const SECRET = 'client-secret-zz-9191';

/** What the mTLS token endpoint saw: the client certificate's CN, the headers and the form. */
interface MtlsRequest {
  peer?: string;
  path?: string;
  headers: Record<string, unknown>;
  form: URLSearchParams;
}

let certs: TestCertificates;
let tlsServer: Server;
let tlsTokenUrl: string;
let tlsRequests: MtlsRequest[];
let plain: LoopbackServer;
let clock: ManualClock;

beforeAll(async () => {
  certs = makeTestCertificates();
  tlsServer = createMtlsServer(certs, (request, body, response) => {
    const peer = [(request.socket as TLSSocket).getPeerCertificate().subject?.CN].flat()[0];
    tlsRequests.push({
      peer,
      path: request.url,
      headers: request.headers,
      form: new URLSearchParams(body),
    });
    sendJson(response, 200, { access_token: `at-mtls-${tlsRequests.length}`, expires_in: 60 });
  });
  tlsServer.keepAliveTimeout = 1;
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  tlsTokenUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/token`;
  plain = await startLoopbackServer();
});
afterAll(async () => {
  tlsServer.closeAllConnections();
  tlsServer.close();
  await plain.close();
});
beforeEach(() => {
  tlsRequests = [];
  plain.requests.length = 0;
  clock = new ManualClock(NOW);
});

const mtlsConfig = (extra: { boundTokens?: boolean } = {}) => ({
  certificate: certs.client.cert,
  privateKey: certs.client.key,
  ca: certs.ca,
  ...extra,
});
type Config = ConstructorParameters<typeof OAuth2Strategy>[0];
type Context = ConstructorParameters<typeof OAuth2Strategy>[2];
const strategy = (extra: Partial<Config> = {}, context?: Context) =>
  new OAuth2Strategy(
    { tokenUrl: plain.tokenUrl, clientId: 'svc', clientSecret: SECRET, ...extra } as Config,
    clock,
    context,
  );
const withCertificate = (extra: Partial<Config> = {}, context?: Context) =>
  strategy({ tokenUrl: tlsTokenUrl, clientAuth: 'tls_client_auth', mtls: mtlsConfig(), ...extra }, context);

describe('OAuth2Strategy.senderConstraint', () => {
  it('none without dpop or a client certificate', () => {
    expect(strategy().senderConstraint).toBeUndefined();
  });

  it('DPoP only: the signer, no certificate', () => {
    const signer = new DpopProofSigner(true, clock);
    const constraint = strategy({ dpop: true }, { dpop: signer }).senderConstraint;
    expect(constraint).toBeDefined();
    expect(constraint!.dpop).toBe(signer);
    expect(constraint!.mtlsAgent).toBeUndefined();
    expect(constraint!.mtlsDispatcher).toBeUndefined();
  });

  it("certificate-bound tokens: the certificate's agent and fetch dispatcher, no DPoP", async () => {
    const mtls = new MtlsClient(mtlsConfig());
    try {
      const constraint = withCertificate({}, { mtls }).senderConstraint;
      expect(constraint).toBeDefined();
      expect(constraint!.dpop).toBeUndefined();
      expect(constraint!.mtlsAgent).toBe(mtls.agent);
      expect(typeof constraint!.mtlsDispatcher).toBe('function');
      const dispatcher = await constraint!.mtlsDispatcher!();
      expect(dispatcher).toBeDefined();
      expect(dispatcher).toBe(await mtls.fetchDispatcher());
    } finally {
      mtls.close();
    }
  });

  it('a certificate without bound tokens (boundTokens: false) constrains nothing; with DPoP, DPoP only', () => {
    const mtls = new MtlsClient(mtlsConfig({ boundTokens: false }));
    try {
      const config = { mtls: mtlsConfig({ boundTokens: false }) };
      expect(withCertificate(config, { mtls }).senderConstraint).toBeUndefined();
      const signer = new DpopProofSigner(true, clock);
      const constraint = withCertificate({ ...config, dpop: true }, { mtls, dpop: signer }).senderConstraint;
      expect(constraint).toBeDefined();
      expect(constraint!.dpop).toBe(signer);
      expect(constraint!.mtlsAgent).toBeUndefined();
      expect(constraint!.mtlsDispatcher).toBeUndefined();
    } finally {
      mtls.close();
    }
  });
});

describe('OAuth2Strategy with a client certificate (RFC 8705)', () => {
  it('tls_client_auth: the certificate authenticates over TLS, the form names the client, no secret is sent', async () => {
    const s = withCertificate();
    try {
      const info = await s.generate();
      expect(info).toMatchObject({ token: 'at-mtls-1', expiresAt: NOW + 60_000 });
      expect(tlsRequests).toHaveLength(1);
      expect(tlsRequests[0].peer).toBe('shop-client');
      expect(Object.fromEntries(tlsRequests[0].form)).toEqual({
        grant_type: 'client_credentials',
        client_id: 'svc',
      });
      expect(tlsRequests[0].headers.authorization).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it('a variant uses the same certificate; only the strategy that made it closes it', async () => {
    const s = withCertificate();
    const agent = s.senderConstraint!.mtlsAgent!;
    const destroy = jest.spyOn(agent, 'destroy');
    try {
      const variant = s.withParameters({ scope: 'read' });
      expect(variant.senderConstraint!.mtlsAgent).toBe(agent);
      await variant.generate();
      expect(tlsRequests[0]).toMatchObject({ peer: 'shop-client' });
      expect(tlsRequests[0].form.get('scope')).toBe('read');
      variant.close();
      expect(destroy).not.toHaveBeenCalled();
    } finally {
      s.close();
    }
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it("a strategy given another's certificate (context.mtls) leaves it open on close", () => {
    const mtls = new MtlsClient(mtlsConfig());
    const destroy = jest.spyOn(mtls.agent, 'destroy');
    try {
      withCertificate({}, { mtls }).close();
      expect(destroy).not.toHaveBeenCalled();
    } finally {
      mtls.close();
    }
  });
});

describe('OAuth2Strategy with issuer and a client certificate', () => {
  const serveIssuer = (metadata: Record<string, unknown>) =>
    plain.handle((req, res) => {
      if (req.method === 'GET' && req.path === '/.well-known/openid-configuration') {
        return sendJson(res, 200, { issuer: plain.origin, ...metadata });
      }
      sendJson(res, 404, {});
    });
  const issuerWithCertificate = () =>
    new OAuth2Strategy(
      { issuer: plain.origin, clientId: 'svc', clientAuth: 'tls_client_auth', mtls: mtlsConfig() },
      clock,
    );

  it('refuses metadata whose token endpoint (where the certificate would go) is plain http', async () => {
    serveIssuer({ token_endpoint: `${plain.origin}/token` });
    const s = issuerWithCertificate();
    try {
      const error = await rejection(s.generate());
      expect(error).toBeInstanceOf(DiscoveredEndpointRefusedError);
      expect(error).toMatchObject({ field: 'token_endpoint' });
      expect(error.message).toContain('must use https');
      expect(plain.requests.map((r) => r.method)).toEqual(['GET']);
      expect(tlsRequests).toHaveLength(0);
    } finally {
      s.close();
    }
  });

  it("posts to the issuer's mTLS alias with the certificate", async () => {
    serveIssuer({
      token_endpoint: `${plain.origin}/token`,
      mtls_endpoint_aliases: { token_endpoint: tlsTokenUrl },
    });
    const s = issuerWithCertificate();
    try {
      await expect(s.generate()).resolves.toMatchObject({ token: 'at-mtls-1' });
      expect(tlsRequests).toHaveLength(1);
      expect(tlsRequests[0]).toMatchObject({ peer: 'shop-client', path: '/token' });
      expect(plain.requests.map((r) => r.method)).toEqual(['GET']);
    } finally {
      s.close();
    }
  });
});
