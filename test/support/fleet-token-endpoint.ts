import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EndpointRequest {
  /** 1-based. */
  number: number;
  /** The `x-replica` header: which replica asked. */
  replica: string;
  /** When it arrived (epoch ms). */
  at: number;
  /** The token handed out; undefined while the request is stalled. */
  token: string | undefined;
}

/**
 * A loopback token endpoint for the fleet tests: every request gets a new token of `lifetimeMs`;
 * requests whose number is in `stall` are never answered (until the endpoint closes).
 */
export class FleetTokenEndpoint {
  readonly requests: EndpointRequest[] = [];
  /** Called for every request, after it was recorded. */
  onRequest: ((request: EndpointRequest) => void) | undefined;
  private readonly server: Server;

  constructor(
    readonly lifetimeMs: number,
    readonly stall: ReadonlySet<number> = new Set(),
  ) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }

  /** Tokens handed out, in order. */
  get tokens(): string[] {
    return this.requests.flatMap((request) => (request.token === undefined ? [] : [request.token]));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const request: EndpointRequest = {
      number: this.requests.length + 1,
      replica: String(req.headers['x-replica'] ?? ''),
      at: Date.now(),
      token: undefined,
    };
    this.requests.push(request);
    if (!this.stall.has(request.number)) {
      request.token = `fleet-token-${request.number}-${randomUUID()}`;
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          access_token: request.token,
          token_type: 'Bearer',
          expires_in: this.lifetimeMs / 1000,
        }),
      );
    }
    this.onRequest?.(request);
  }
}
