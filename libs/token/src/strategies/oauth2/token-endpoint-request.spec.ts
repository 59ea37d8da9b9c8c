import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { TokenRequestError } from '../../core/token.errors.js';
import { postTokenRequest, type TokenEndpointRequest } from './token-endpoint-request.js';
import { rejection } from '../../testing-support/rejection.js';

let server: LoopbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const request = (url: string, overrides: Partial<TokenEndpointRequest> = {}): Promise<unknown> =>
  postTokenRequest({
    url,
    form: new URLSearchParams({ grant_type: 'client_credentials' }),
    timeoutMs: 5000,
    maxResponseBytes: 1024,
    ...overrides,
  });

describe('postTokenRequest', () => {
  it('POSTs a form with the given headers and returns status, content-type and body', async () => {
    server = await startLoopbackServer((_req, res) => sendJson(res, 201, { ok: true }));
    const response = await postTokenRequest({
      url: `${server.tokenUrl}?tenant=a`,
      form: new URLSearchParams({ grant_type: 'client_credentials', scope: 'a b' }),
      headers: { authorization: 'Basic abc' },
      timeoutMs: 5000,
      maxResponseBytes: 1024,
    });
    expect(response).toEqual({
      status: 201,
      contentType: 'application/json; charset=utf-8',
      body: '{"ok":true}',
    });
    const [seen] = server.requests;
    expect(seen.method).toBe('POST');
    expect(seen.path).toBe('/token?tenant=a');
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen.headers.accept).toBe('application/json');
    expect(seen.headers.authorization).toBe('Basic abc');
    expect(seen.body).toBe('grant_type=client_credentials&scope=a+b');
  });

  it('does not follow a redirect', async () => {
    server = await startLoopbackServer((req, res) => {
      if (req.path === '/token') {
        res.writeHead(307, { location: '/elsewhere' });
        res.end();
      } else sendJson(res, 200, { access_token: 'should-not-be-fetched' });
    });
    const response = await request(server.tokenUrl);
    expect(response).toMatchObject({ status: 307 });
    expect(server.requests.map((r) => r.path)).toEqual(['/token']);
  });

  it('accepts a body of exactly maxResponseBytes', async () => {
    server = await startLoopbackServer((_req, res) => sendJson(res, 200, 'x'.repeat(1024)));
    expect(await request(server.tokenUrl)).toMatchObject({ body: 'x'.repeat(1024) });
  });

  it('rejects a declared Content-Length over the cap without reading the body', async () => {
    server = await startLoopbackServer((_req, res) => sendJson(res, 200, 'x'.repeat(1025)));
    const error = await rejection(request(server.tokenUrl));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toBe(
      `token request to ${server.tokenUrl} failed: response body exceeds 1024 bytes`,
    );
  });

  it('stops reading an endless chunked body once it passes the cap', async () => {
    let chunksWritten = 0;
    let closedEarly: Promise<void> | undefined;
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      closedEarly = new Promise((resolve) => res.on('close', () => resolve()));
      const pump = () => {
        // Writes until the client hangs up; a client that buffered everything would never return.
        while (!res.destroyed && chunksWritten < 100_000 && res.write('y'.repeat(512))) chunksWritten++;
        if (!res.destroyed && chunksWritten < 100_000) res.once('drain', pump);
      };
      pump();
    });
    const error = await rejection(request(server.tokenUrl));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toMatch(/response body exceeds 1024 bytes/);
    await closedEarly;
    expect(chunksWritten).toBeLessThan(100_000);
  });

  it('times out a server that never answers, and a body that never ends', async () => {
    server = await startLoopbackServer(() => undefined);
    const error = await rejection(request(server.tokenUrl, { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toBe(`token request to ${server.tokenUrl} timed out after 50 ms`);

    server.handle((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":');
    });
    const stalled = await rejection(request(server.tokenUrl, { timeoutMs: 50 }));
    expect(stalled).toBeInstanceOf(TokenRequestError);
    expect(stalled.message).toMatch(/timed out after 50 ms/);
  });

  it('reports a refused connection with its code, not the query string', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await rejection(request(`http://127.0.0.1:${port}/token?api_key=hidden-value`));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toBe(`token request to http://127.0.0.1:${port}/token failed: ECONNREFUSED`);
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(String(error.stack)).not.toContain('hidden-value');
  });

  it('reports a connection dropped mid-response', async () => {
    server = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"access_');
      setImmediate(() => res.socket?.destroy());
    });
    const error = await rejection(request(server.tokenUrl));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toMatch(/failed: reading the response/);
  });
});

describe('postTokenRequest through a transport', () => {
  const post = (send: Parameters<typeof postTokenRequest>[1]) =>
    postTokenRequest(
      {
        url: 'https://idp.example/token?tenant=x',
        form: new URLSearchParams({ grant_type: 'client_credentials' }),
        timeoutMs: 5000,
        maxResponseBytes: 1024,
      },
      send,
    );
  const coded = (code: string, cause?: unknown) =>
    Object.assign(new Error(`connect ${code}`), { code, cause });
  const failing = (error: unknown) => () => Promise.reject(error);

  it.each<[string, unknown, string, boolean]>([
    [
      'a socket error under fetch failed',
      new TypeError('fetch failed', { cause: coded('ECONNREFUSED') }),
      'ECONNREFUSED',
      true,
    ],
    ['a code three causes down', { cause: { cause: { cause: coded('EPIPE') } } }, 'EPIPE', true],
    [
      'a code four causes down',
      { name: 'Deep', cause: { cause: { cause: { cause: coded('EPIPE') } } } },
      'Deep',
      false,
    ],
    ["undici's own error", coded('UND_ERR_SOCKET'), 'UND_ERR_SOCKET', false],
    ['a lower-case code', Object.assign(new Error('x'), { code: 'econnreset' }), 'network error', false],
    [
      'a code that is too long',
      Object.assign(new Error('x'), { code: `E${'X'.repeat(41)}` }),
      'network error',
      false,
    ],
    ['a code with a space', Object.assign(new Error('x'), { code: 'E X' }), 'network error', false],
    ['a named error', Object.assign(new Error('x'), { name: 'AbortError' }), 'AbortError', false],
    ['a plain Error', new Error('x'), 'network error', false],
    ['a name with spaces', { name: 'Bad name' }, 'network error', false],
    ['a name of 41 characters', { name: 'N'.repeat(41) }, 'network error', false],
    ['a name of 40 characters', { name: 'N'.repeat(40) }, 'N'.repeat(40), false],
    ['a string', 'boom', 'network error', false],
    ['null', null, 'network error', false],
  ])('%s: the reason named, the cause kept or not', async (_case, thrown, reason, keptAsCause) => {
    const error = await rejection(post(failing(thrown)));
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as Error).message).toBe(`token request to https://idp.example/token failed: ${reason}`);
    expect((error as Error).cause !== undefined).toBe(keptAsCause);
  });

  it('reads the body as UTF-8 across chunks, and no Content-Type as ""', async () => {
    const bytes = new TextEncoder().encode('{"name":"é"}');
    const split = bytes.indexOf(0xc3) + 1; // inside the two bytes of "é"
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, split));
        controller.enqueue(bytes.slice(split));
        controller.close();
      },
    });
    const response = await post(async () => new Response(body, { status: 200 }));
    expect(response).toMatchObject({ status: 200, contentType: '', body: '{"name":"é"}' });
  });

  it('a failure while reading the body names its code too', async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new TypeError('terminated', { cause: coded('ECONNRESET') }));
      },
    });
    const error = await rejection(post(async () => new Response(body, { status: 200 })));
    expect((error as Error).message).toBe(
      'token request to https://idp.example/token failed: reading the response: ECONNRESET',
    );
  });
});
