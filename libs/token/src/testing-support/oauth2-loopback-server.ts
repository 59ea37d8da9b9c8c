import { afterAll, beforeAll, beforeEach } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { ManualClock } from '../core/clock.js';

/** A request as the stub token endpoint saw it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  form: URLSearchParams;
}

export type StubHandler = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

/** A scriptable `node:http` token endpoint on 127.0.0.1, port 0. */
export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** `origin + '/token'`. */
  readonly tokenUrl: string;
  readonly requests: RecordedRequest[];
  handle(handler: StubHandler): void;
  /** Drops every open connection (a hung response included) and stops listening. */
  close(): Promise<void>;
}

export async function startLoopbackServer(
  handler: StubHandler = (_req, res) => sendJson(res, 404, {}),
): Promise<LoopbackServer> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        form: new URLSearchParams(body),
      };
      requests.push(recorded);
      Promise.resolve(current(recorded, res)).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 599, { error: 'stub_failed', error_description: String(error) });
      });
    });
  });
  // Keep-alive sockets would otherwise hold `close()` open.
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    tokenUrl: `${origin}/token`,
    requests,
    handle: (next) => {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Decodes an RFC 6749 §2.3.1 `Authorization: Basic` header (form-encoded id and secret). */
export function decodeBasic(
  header: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const formDecode = (value: string) => new URLSearchParams(`v=${value}`).get('v') ?? '';
  return {
    clientId: formDecode(decoded.slice(0, colon)),
    clientSecret: formDecode(decoded.slice(colon + 1)),
  };
}

/** Every way an error ends up in a log or a response. */
export function errorRenderings(error: unknown): string[] {
  const e = error as Error;
  return [
    e.message,
    String(e),
    e.stack ?? '',
    JSON.stringify(e),
    JSON.stringify({ ...e }),
    inspect(e, { depth: 5 }),
  ];
}

/**
 * One loopback server for the spec file (started before its tests, closed after them) and, before
 * each test, its recorded requests cleared and a fresh `ManualClock` at `now`, both handed to `use`.
 */
export function withLoopbackServer(
  now: number,
  use: (server: LoopbackServer, clock: ManualClock) => void,
): void {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    use(server, new ManualClock(now));
  });
}
