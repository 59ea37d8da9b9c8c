import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jwtVerify } from 'jose';

/** What a test API saw of one request. */
export interface SeenRequest {
  method: string;
  path: string;
  /** Every `Authorization` header line, as sent (two lines would mean a double-set header). */
  authorization: string[];
  /** `iss` of the verified JWT, or `undefined` without a token. */
  issuer?: string;
  status: number;
  body: string;
}

export interface TestApi {
  origin: string;
  seen: SeenRequest[];
  /** `'never'` (default), `'once'` (the first authenticated request) or `'always'`: answer 401. */
  unauthorized: 'never' | 'once' | 'always';
  close(): Promise<void>;
}

/**
 * A loopback API that checks HS256 JWTs with `jose.jwtVerify`: 200 with `{ issuer }` for a valid
 * token, 200 with `{ issuer: null }` without one, 401 for an invalid one (or when told to).
 */
export async function startJwtApi(secret: string): Promise<TestApi> {
  const key = new TextEncoder().encode(secret);
  let rejectedOnce = false;
  const api: TestApi = {
    origin: '',
    seen: [],
    unauthorized: 'never',
    close: async () => {},
  };
  const { origin, close } = await listen(async (req, body, res) => {
    const authorization = headerLines(req, 'authorization');
    const seen: SeenRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      authorization,
      status: 200,
      body,
    };
    api.seen.push(seen);
    const token = authorization.length === 1 ? /^Bearer (.+)$/.exec(authorization[0])?.[1] : undefined;
    if (authorization.length > 0) {
      const forced = api.unauthorized === 'always' || (api.unauthorized === 'once' && !rejectedOnce);
      try {
        if (token === undefined || forced) throw new Error('rejected');
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
        seen.issuer = payload.iss;
      } catch {
        if (api.unauthorized === 'once') rejectedOnce = true;
        seen.status = 401;
        return json(res, 401, { code: 1000, message: 'authentication failed' });
      }
    }
    json(res, 200, { issuer: seen.issuer ?? null });
  });
  api.origin = origin;
  api.close = close;
  return api;
}

/** Starts a node:http server on 127.0.0.1, port 0; `close()` also drops keep-alive connections. */
export async function listen(
  handler: (req: IncomingMessage, body: string, res: ServerResponse) => void | Promise<void>,
): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      Promise.resolve(handler(req, Buffer.concat(chunks).toString('utf8'), res)).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function headerLines(req: IncomingMessage, name: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === name) lines.push(req.rawHeaders[i + 1]);
  }
  return lines;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
