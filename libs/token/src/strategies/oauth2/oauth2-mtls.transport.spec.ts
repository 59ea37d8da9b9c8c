/**
 * `MtlsClient` against a real TLS server that requires a client certificate from its CA: kept-alive
 * connections and their release, answers `Response` cannot hold, a refused handshake, the undici
 * dispatcher for `fetch`, and `tls_client_auth` (RFC 8705 §2) through the strategy.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import type { Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ManualClock } from '../../core/clock.js';
import type { FetchDispatcher } from '../../core/sender-constraint.js';
import { TokenRequestError } from '../../core/token.errors.js';
import { errorRenderings } from '../../testing-support/oauth2-loopback-server.js';
import {
  createMtlsServer,
  makeTestCertificates,
  type TestCertificates,
} from '../../testing-support/test-certificates.js';
import { MtlsClient } from './oauth2-mtls.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

/** One request as the server saw it. */
interface Seen {
  path: string;
  /** Which TLS connection it came on: 1 for the server's first, 2 for the next… */
  connection: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The client certificate's subject CN. */
  peer: string | undefined;
}

let certs: TestCertificates;
let server: Server;
let origin: string;
let seen: Seen[];
/** The server-side sockets, in the order they were accepted (numbers keep failure diffs small). */
const sockets: Socket[] = [];
let answer: { status: number; headers?: Record<string, string>; body?: string };

beforeAll(async () => {
  certs = makeTestCertificates();
  server = createMtlsServer(certs, (request, body, response) => {
    const socket = request.socket as TLSSocket;
    if (!sockets.includes(socket)) sockets.push(socket);
    seen.push({
      path: request.url ?? '',
      connection: sockets.indexOf(socket) + 1,
      headers: request.headers,
      body,
      peer: [socket.getPeerCertificate().subject?.CN].flat()[0],
    });
    response.writeHead(answer.status, answer.headers ?? {});
    response.end(answer.body);
  });
  // Idle connections stay open until the client closes them.
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});
beforeEach(() => {
  seen = [];
  answer = { status: 200, headers: { 'content-type': 'application/json' }, body: '{"access_token":"at-1"}' };
});

const client = () =>
  new MtlsClient({ certificate: certs.client.cert, privateKey: certs.client.key, ca: certs.ca });
const post = (mtls: MtlsClient, timeoutMs = 10_000) =>
  mtls.post({
    url: `${origin}/token`,
    form: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'shop' }),
    timeoutMs,
    maxResponseBytes: 10_000,
  });
/** A few turns of the event loop (no timer): lets a finished response hand its socket back. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('MtlsClient connections', () => {
  it('keeps the connection alive: two requests, one TLS connection', async () => {
    const mtls = client();
    try {
      await expect(post(mtls)).resolves.toMatchObject({ status: 200, body: '{"access_token":"at-1"}' });
      await settle();
      await expect(post(mtls)).resolves.toMatchObject({ status: 200 });
      expect(seen).toHaveLength(2);
      expect(seen[0].headers.connection).toBe('keep-alive');
      expect(seen[1].connection).toBe(seen[0].connection);
      expect(seen.map((request) => request.peer)).toEqual(['shop-client', 'shop-client']);
    } finally {
      mtls.close();
    }
  });

  it.each([204, 205, 304])(
    'a %i answer (no body) hands its connection back for the next request',
    async (status) => {
      answer = { status };
      const mtls = client();
      try {
        await expect(post(mtls)).resolves.toMatchObject({ status, body: '' });
        await settle();
        answer = { status: 200, body: '{}' };
        await expect(post(mtls)).resolves.toMatchObject({ status: 200, body: '{}' });
        expect(seen[1].connection).toBe(seen[0].connection);
      } finally {
        mtls.close();
      }
    },
  );

  it('close() ends the kept-alive connections', async () => {
    const mtls = client();
    await post(mtls);
    await settle();
    const [socket] = Object.values(mtls.agent.freeSockets).flat();
    expect(socket?.destroyed).toBe(false);
    const serverSide = sockets[seen[0].connection - 1];
    const serverClosed = once(serverSide, 'close');
    mtls.close();
    expect(socket?.destroyed).toBe(true);
    await serverClosed;
  });

  it('a status outside 200-599 fails at once as a TokenRequestError, the connection dropped', async () => {
    answer = { status: 600, body: 'odd' };
    const mtls = client();
    try {
      // Failing from the answer itself: had it waited for the timeout, the message would say so.
      const error = await post(mtls, 5_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenRequestError);
      expect((error as Error).message).toBe(`token request to ${origin}/token failed: RangeError`);
      await settle();
      answer = { status: 200, body: '{}' };
      await post(mtls);
      expect(seen[1].connection).not.toBe(seen[0].connection);
    } finally {
      mtls.close();
    }
  });

  it('a certificate the server does not trust: a TokenRequestError naming the endpoint, no key material', async () => {
    const rogue = new MtlsClient({
      certificate: certs.rogue.cert,
      privateKey: certs.rogue.key,
      ca: certs.ca,
    });
    try {
      const error = await post(rogue).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenRequestError);
      expect((error as Error).message).toMatch(new RegExp(`^token request to ${origin}/token failed: \\w+`));
      const keyLine = certs.rogue.key.split('\n')[1];
      for (const text of errorRenderings(error)) {
        expect(text).not.toContain('PRIVATE KEY');
        expect(text).not.toContain(keyLine);
      }
      expect(seen).toEqual([]);
    } finally {
      rogue.close();
    }
  });
});

describe('MtlsClient.fetchDispatcher (RFC 8705 §3)', () => {
  it('one undici dispatcher, made once, that presents the client certificate to fetch', async () => {
    const mtls = client();
    const dispatcherPromise = mtls.fetchDispatcher();
    expect(mtls.fetchDispatcher()).toBe(dispatcherPromise);
    // An undici Agent: `destroyed` turns true once it is destroyed.
    const dispatcher = (await dispatcherPromise) as FetchDispatcher & { destroyed: boolean };
    expect(dispatcher.destroyed).toBe(false);
    try {
      // (`object`: `RequestInit` has a `dispatcher` in Node's types only, as in token-fetch-redirects.)
      const withCertificate: object = { dispatcher };
      const response = await fetch(`${origin}/orders`, { ...withCertificate });
      expect(response.status).toBe(200);
      await response.text();
      expect(seen).toEqual([expect.objectContaining({ path: '/orders', peer: 'shop-client' })]);
    } finally {
      mtls.close();
    }
    await settle();
    expect(dispatcher.destroyed).toBe(true);
  });

  it('close() before any dispatcher was asked for is fine', () => {
    const mtls = client();
    expect(() => mtls.close()).not.toThrow();
  });
});

describe('tls_client_auth through the strategy (RFC 8705 §2)', () => {
  it('the certificate authenticates; the body names the client; no secret, no Authorization', async () => {
    answer = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"access_token":"at-mtls","token_type":"Bearer","expires_in":60}',
    };
    const strategy = new OAuth2Strategy(
      {
        tokenUrl: `${origin}/token`,
        clientId: 'shop',
        clientAuth: 'tls_client_auth',
        mtls: { certificate: certs.client.cert, privateKey: certs.client.key, ca: certs.ca },
      },
      new ManualClock(1_700_000_000_000),
    );
    try {
      await expect(strategy.generate()).resolves.toMatchObject({ token: 'at-mtls' });
      const [request] = seen;
      expect(request.peer).toBe('shop-client');
      expect(request.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
        grant_type: 'client_credentials',
        client_id: 'shop',
      });
    } finally {
      strategy.close();
    }
  });
});
