import { afterEach, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenRequestError } from '../../core/token.errors.js';
import { startLoopbackServer, type LoopbackServer } from '../../testing-support/oauth2-loopback-server.js';
import { rejection } from '../../testing-support/rejection.js';
import { postTokenRequest, type TokenEndpointTransport } from './token-endpoint-request.js';

// The limits of one token request: a declared Content-Length over the cap, a body of exactly the
// cap, the timer that must not outlive the exchange, and a `code` that is not a string.
let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const post = (url: string, timeoutMs = 5000, send?: TokenEndpointTransport) =>
  postTokenRequest(
    {
      url,
      form: new URLSearchParams({ grant_type: 'client_credentials', client_secret: 'Lm-secret-93a1' }),
      timeoutMs,
      maxResponseBytes: 1024,
    },
    send,
  );

describe('postTokenRequest: the declared Content-Length', () => {
  it('over the cap fails at once and hangs up, without waiting for the body', async () => {
    let closed: Promise<void> | undefined;
    server = await startLoopbackServer((_req, res) => {
      closed = new Promise((resolve) => res.on('close', () => resolve()));
      // 2,000 bytes announced, 2 sent, and the rest never: only the header can end this early.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2000' });
      res.write('{}');
    });
    const error = await rejection(post(server.tokenUrl, 3000));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toBe(
      `token request to ${server.tokenUrl} failed: response body exceeds 1024 bytes`,
    );
    expect(error.cause).toBeUndefined();
    await closed;
  });

  it('of exactly the cap, with a body of that size, is read whole', async () => {
    const body = `"${'z'.repeat(1022)}"`;
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.end(body);
    });
    const response = await post(server.tokenUrl);
    expect(response).toEqual({
      status: 200,
      contentType: 'application/json',
      body,
      dpopNonce: undefined,
      retryAfter: undefined,
    });
  });
});

describe('postTokenRequest: the timeout', () => {
  it('is cleared once the answer is in: the request is not aborted afterwards', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '3', 'dpop-nonce': 'n-1' });
      res.end('{"ok":true}');
    });
    let signal: AbortSignal | undefined;
    const spying: TokenEndpointTransport = (url, init) => {
      signal = init.signal;
      return fetch(url, init);
    };
    const response = await post(server.tokenUrl, 50, spying);
    expect(response).toEqual({
      status: 200,
      contentType: 'application/json',
      body: '{"ok":true}',
      dpopNonce: 'n-1',
      retryAfter: '3',
    });
    // Well past the 50 ms: a timer left running would abort the signal by now.
    await sleep(300);
    expect(signal?.aborted).toBe(false);
  });
});

describe('postTokenRequest: a failure whose code is not a string', () => {
  it.each<[string, unknown]>([
    ['an array holding a code', ['ECONNRESET']],
    ['a number', 104],
    ['an object that prints as a code', { toString: () => 'EPIPE' }],
  ])('%s is no code: "network error", no cause kept', async (_label, code) => {
    const thrown = Object.assign(new Error('socket hang up'), { code });
    const error = await rejection(
      post('https://idp.example/token?tenant=x', 5000, () => Promise.reject(thrown)),
    );
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toBe('token request to https://idp.example/token failed: network error');
    expect(error.cause).toBeUndefined();
  });
});
