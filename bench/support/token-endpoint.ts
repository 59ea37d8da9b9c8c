import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Tokens carry their own issue and expiry times (`bench-<seq>-<issuedAt>-<expiresAt>`, epoch ms, the
 * endpoint's view), so any process, a fleet replica included, can tell whether a token it is about
 * to send has expired without asking the endpoint.
 */
export function benchTokenTimes(token: string): { issuedAt: number; expiresAt: number } | undefined {
  const match = /^bench-\d+-(\d+)-(\d+)$/.exec(token);
  return match === null ? undefined : { issuedAt: Number(match[1]), expiresAt: Number(match[2]) };
}

/** How the loopback token endpoint answers. */
export type EndpointMode = 'ok' | 'error-500';

export interface TokenEndpointOptions {
  /** Lifetime of the tokens it issues (`expires_in`, whole seconds as RFC 6749 says). */
  expiresInSeconds: number;
  /** Added before every answer, so one round trip has a known floor (a real endpoint is never 0 ms). */
  latencyMs: number;
}

/**
 * An OAuth2 client-credentials token endpoint on 127.0.0.1:0 that counts what it is asked and issues
 * tokens that say when they expire (see {@link benchTokenTimes}).
 */
export class LoopbackTokenEndpoint {
  /** Token requests answered (or failed on purpose) since `reset()`. */
  requests = 0;
  mode: EndpointMode = 'ok';
  private server: Server | undefined;
  private sequence = 0;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly options: TokenEndpointOptions) {}

  /** `http://127.0.0.1:PORT` */
  origin = '';

  get tokenUrl(): string {
    return `${this.origin}/oauth/token`;
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => this.handle(request, response));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', 511, resolve));
    this.server = server;
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stops listening and drops every open connection: the endpoint is down (connection refused). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  reset(): void {
    this.requests = 0;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    request.resume();
    request.on('end', () => {
      this.requests++;
      setTimeout(() => this.answer(response), this.options.latencyMs);
    });
  }

  private answer(response: ServerResponse): void {
    if (this.mode === 'error-500') {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'temporarily_unavailable' }));
      return;
    }
    const now = Date.now();
    const token = `bench-${++this.sequence}-${now}-${now + this.options.expiresInSeconds * 1000}`;
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(
      JSON.stringify({
        access_token: token,
        token_type: 'Bearer',
        expires_in: this.options.expiresInSeconds,
      }),
    );
  }
}

/** A resource server on 127.0.0.1:0 that answers every GET with a small JSON body (for the interceptor). */
export async function startLoopbackApi(): Promise<{ origin: string; close: () => Promise<void> }> {
  const body = JSON.stringify({ ok: true });
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
