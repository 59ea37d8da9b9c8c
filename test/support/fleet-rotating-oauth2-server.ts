import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback OAuth2 token endpoint that rotates refresh tokens strictly, as many issuers do: every
 * grant (client credentials or refresh) hands out a new refresh token and revokes every earlier one,
 * and a refresh token presented twice, or after it was revoked, is refused with `invalid_grant`.
 */
export class RotatingOAuth2Server {
  /** Grants answered, by type. */
  readonly grants = { client_credentials: 0, refresh_token: 0 };
  /** Refresh tokens refused: reused or already superseded. */
  invalidGrants = 0;
  /** The only refresh token the server accepts right now. */
  private live: string | undefined;
  private readonly spent = new Set<string>();
  private readonly server: Server;

  constructor(readonly lifetimeMs: number) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }

  /** Refresh tokens presented again after they had been spent. */
  get reuses(): number {
    return this.reused;
  }

  private reused = 0;

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    if (grant === 'refresh_token') {
      const presented = form.get('refresh_token') ?? '';
      if (presented !== this.live) {
        if (this.spent.has(presented)) this.reused++;
        this.invalidGrants++;
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      this.spent.add(presented);
      this.grants.refresh_token++;
    } else if (grant === 'client_credentials') {
      this.grants.client_credentials++;
    } else {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: 'unsupported_grant_type' }));
      return;
    }
    if (this.live !== undefined) this.spent.add(this.live); // superseded: revoked
    this.live = `rt-${randomUUID()}`;
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        access_token: `at-${randomUUID()}`,
        token_type: 'Bearer',
        expires_in: this.lifetimeMs / 1000,
        refresh_token: this.live,
      }),
    );
  }
}
