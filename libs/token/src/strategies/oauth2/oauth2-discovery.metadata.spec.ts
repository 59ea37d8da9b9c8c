import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
  type RecordedRequest,
} from '../../testing-support/oauth2-loopback-server.js';
import { rejection } from '../../testing-support/rejection.js';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError, TokenRequestError } from '../../core/token.errors.js';
import {
  DiscoveredEndpointRefusedError,
  OAuth2Discovery,
  selectClientAuth,
  type AuthorizationServerMetadata,
} from './oauth2-discovery.js';

// What the metadata fetch accepts and refuses, beyond oauth2-discovery.spec.ts: the defaults of the
// constructor, network errors without a code, null-body statuses, the exact size limit, a body cut
// short, and where the endpoints the document names may be (discovered-endpoint.ts rules).

const SECRET = 'Fz-SECRET-canary-7c1d';
const LIMIT = 256 * 1024;

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());
afterEach(() => {
  jest.restoreAllMocks();
});

/** Answers the OpenID Connect location with `answer`, 404 elsewhere. */
function serveOidc(answer: (res: ServerResponse, request: RecordedRequest) => void): void {
  server.handle((request, res) => {
    if (request.path.endsWith('/.well-known/openid-configuration')) answer(res, request);
    else sendJson(res, 404, {});
  });
}

/** Serves `document(issuer)` (the issuer being the server's origin) as JSON. */
const serveDocument = (document: (issuer: string) => Record<string, unknown>) =>
  serveOidc((res) => sendJson(res, 200, document(server.origin)));

const discoveryOf = (options = {}, withCertificate = false) =>
  new OAuth2Discovery(server.origin, options, false, new ManualClock(), withCertificate);

const failure = async (discovery: OAuth2Discovery) => {
  const error = await rejection(discovery.metadata());
  expect(error).toBeInstanceOf(TokenRequestError);
  return error as TokenRequestError;
};

describe('OAuth2Discovery constructor defaults', () => {
  it('without allowInsecureHttp refuses a plain-http endpoint off loopback; without a certificate, http loopback is fine', async () => {
    serveDocument((issuer) => ({
      issuer,
      token_endpoint: `${server.origin}/token`,
      mtls_endpoint_aliases: { token_endpoint: `${server.origin}/mtls/token` },
    }));
    await expect(new OAuth2Discovery(server.origin).metadata()).resolves.toMatchObject({
      token_endpoint: `${server.origin}/token`,
      mtls_endpoint_aliases: { token_endpoint: `${server.origin}/mtls/token` },
    });

    serveDocument((issuer) => ({ issuer, token_endpoint: 'http://idp.example/token' }));
    const error = await failure(new OAuth2Discovery(server.origin));
    expect(error.message).toMatch(/the metadata "token_endpoint" must use https/);
  });
});

describe('OAuth2Discovery network failures', () => {
  it('names a timeout (an error with no cause) by its name', async () => {
    serveOidc(() => undefined); // never answers; the server's close() drops the connection
    const error = await failure(discoveryOf({ timeoutMs: 50 }));
    expect(error.message).toBe(`discovery of issuer ${server.origin}/ failed: TimeoutError`);
  });

  it('names an error whose cause has a non-string code by its name, a nameless one "network error"', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    fetchSpy.mockRejectedValueOnce(Object.assign(new TypeError('fetch failed'), { cause: { code: 42 } }));
    expect((await failure(discoveryOf())).message).toMatch(/ failed: TypeError$/);

    fetchSpy.mockRejectedValueOnce(Object.assign(new Error('boom'), { name: '' }));
    expect((await failure(discoveryOf())).message).toMatch(/ failed: network error$/);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
  });

  it('a 204 (no body at all) is an answer like any other non-200', async () => {
    serveOidc((res) => res.writeHead(204).end());
    const error = await failure(discoveryOf());
    expect(error.message).toBe(
      `discovery of issuer ${server.origin}/ failed: ${server.origin}/.well-known/openid-configuration answered 204`,
    );
  });

  it('never puts the issuer query in the message nor in the fetched path', async () => {
    serveOidc((res) => sendJson(res, 500, {}));
    const before = server.requests.length;
    const issuer = `${server.origin}/?k=${SECRET}`;
    const error = await rejection(new OAuth2Discovery(issuer, {}, false, new ManualClock()).metadata());
    expect(error.message).toMatch(/answered 500/);
    expect(error.message).not.toContain(SECRET);
    expect(server.requests.slice(before).map((request) => request.path)).toEqual([
      '/.well-known/openid-configuration',
    ]);
  });
});

describe('OAuth2Discovery body limits', () => {
  /** A valid document of exactly `bytes` bytes (ASCII). */
  const documentOf = (bytes: number) => {
    const base = JSON.stringify({ issuer: server.origin, token_endpoint: `${server.origin}/token`, pad: '' });
    return `${base.slice(0, -2)}${'x'.repeat(bytes - base.length)}"}`;
  };

  it.each([
    ['with a content-length', true],
    ['chunked', false],
  ])('accepts a document of exactly 256 KiB (%s)', async (_case, declared) => {
    const text = documentOf(LIMIT);
    expect(text).toHaveLength(LIMIT);
    serveOidc((res) =>
      sendJson(
        res,
        200,
        text,
        declared ? { 'content-length': String(LIMIT) } : { 'transfer-encoding': 'chunked' },
      ),
    );
    await expect(discoveryOf().metadata()).resolves.toMatchObject({
      token_endpoint: `${server.origin}/token`,
    });
  });

  it('refuses a document one byte longer, sent without a length', async () => {
    const text = documentOf(LIMIT + 1);
    serveOidc((res) => sendJson(res, 200, text, { 'transfer-encoding': 'chunked' }));
    expect((await failure(discoveryOf())).message).toMatch(/failed: metadata document unreadable$/);
  });

  it('a body cut short (the connection dropped mid-way) is unreadable', async () => {
    serveOidc((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"issuer":', () => res.socket?.destroy());
    });
    expect((await failure(discoveryOf())).message).toMatch(/failed: metadata document unreadable$/);
  });

  it.each([
    ['no content-type', (res: ServerResponse) => res.writeHead(200).end('{}'), /is not JSON$/],
    ['a JSON string', (res: ServerResponse) => sendJson(res, 200, '"issuer"'), /not a JSON object$/],
    ['a JSON number', (res: ServerResponse) => sendJson(res, 200, '42'), /not a JSON object$/],
  ])('refuses %s', async (_case, answer, message) => {
    serveOidc(answer);
    expect((await failure(discoveryOf())).message).toMatch(message);
  });
});

describe('OAuth2Discovery endpoint rules', () => {
  const refusal = async (discovery: OAuth2Discovery) => {
    const error = await failure(discovery);
    expect(error).toBeInstanceOf(DiscoveredEndpointRefusedError);
    return error as DiscoveredEndpointRefusedError;
  };

  it.each(['https://169.254.169.254/token', 'https://[fe80::1]/token'])(
    'refuses a link-local token_endpoint (%s), naming the field and never the URL',
    async (endpoint) => {
      serveDocument((issuer) => ({ issuer, token_endpoint: `${endpoint}?k=${SECRET}` }));
      for (const options of [{}, { allowLocalEndpoints: false }]) {
        const error = await refusal(discoveryOf(options));
        expect(error.field).toBe('token_endpoint');
        expect(error.message).toBe(
          `discovery of issuer ${server.origin}/ failed: the metadata "token_endpoint" is a link-local address, ` +
            'where the client credentials must never go (set "discovery.allowLocalEndpoints: true" if it is meant)',
        );
        expect(error.message).not.toContain(SECRET);
      }
    },
  );

  it('refuses a link-local mTLS alias, naming its field', async () => {
    serveDocument((issuer) => ({
      issuer,
      token_endpoint: `${server.origin}/token`,
      mtls_endpoint_aliases: { token_endpoint: `https://169.254.169.254/mtls?k=${SECRET}` },
    }));
    const error = await refusal(discoveryOf());
    expect(error.field).toBe('mtls_endpoint_aliases.token_endpoint');
    expect(error.message).toMatch(
      /failed: the metadata "mtls_endpoint_aliases.token_endpoint" is a link-local address/,
    );
    expect(error.message).not.toContain(SECRET);
  });

  it('allowLocalEndpoints: true accepts link-local endpoints', async () => {
    serveDocument((issuer) => ({
      issuer,
      token_endpoint: 'https://169.254.169.254/token',
      mtls_endpoint_aliases: { token_endpoint: 'https://[fe80::1]/mtls' },
    }));
    await expect(discoveryOf({ allowLocalEndpoints: true }).metadata()).resolves.toMatchObject({
      token_endpoint: 'https://169.254.169.254/token',
      mtls_endpoint_aliases: { token_endpoint: 'https://[fe80::1]/mtls' },
    });
  });

  describe('with a client certificate', () => {
    const certificateProblem =
      'must use https: the provider authenticates there with its client certificate ("mtls")';

    it('without an alias, the token endpoint must be https', async () => {
      serveDocument((issuer) => ({ issuer, token_endpoint: `${server.origin}/token` }));
      const error = await refusal(discoveryOf({}, true));
      expect(error.field).toBe('token_endpoint');
      expect(error.message).toBe(
        `discovery of issuer ${server.origin}/ failed: the metadata "token_endpoint" ${certificateProblem}`,
      );

      serveDocument((issuer) => ({ issuer, token_endpoint: 'https://127.0.0.1:9/token' }));
      await expect(discoveryOf({}, true).metadata()).resolves.toMatchObject({
        token_endpoint: 'https://127.0.0.1:9/token',
        mtls_endpoint_aliases: undefined,
      });
    });

    it('with an alias, only the alias carries the certificate, so only it must be https', async () => {
      serveDocument((issuer) => ({
        issuer,
        token_endpoint: `${server.origin}/token`,
        mtls_endpoint_aliases: { token_endpoint: 'https://127.0.0.1:9/mtls' },
      }));
      await expect(discoveryOf({}, true).metadata()).resolves.toMatchObject({
        token_endpoint: `${server.origin}/token`,
        mtls_endpoint_aliases: { token_endpoint: 'https://127.0.0.1:9/mtls' },
      });

      serveDocument((issuer) => ({
        issuer,
        token_endpoint: 'https://127.0.0.1:9/token',
        mtls_endpoint_aliases: { token_endpoint: `${server.origin}/mtls` },
      }));
      const error = await refusal(discoveryOf({}, true));
      expect(error.field).toBe('mtls_endpoint_aliases.token_endpoint');
      expect(error.message).toMatch(/the metadata "mtls_endpoint_aliases.token_endpoint" must use https: /);
    });
  });
});

describe('selectClientAuth defaults', () => {
  const metadata: AuthorizationServerMetadata = {
    issuer: 'https://idp.example',
    token_endpoint: 'https://idp.example/token',
  };

  it('a client with neither secret nor key gets client_secret_basic', () => {
    expect(selectClientAuth({}, metadata)).toBe('client_secret_basic');
  });

  it('a refused clientAuth names the field in the error', () => {
    let error: unknown;
    try {
      selectClientAuth(
        { clientAuth: 'private_key_jwt' },
        { ...metadata, token_endpoint_auth_methods_supported: ['client_secret_basic'] },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect((error as InvalidTokenOptionsError).field).toBe('clientAuth');
  });
});
