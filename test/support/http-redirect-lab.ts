import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent, type IncomingMessage } from 'node:http';
import { listen } from './http-servers.js';

/** What one server saw of one request (one redirect hop). */
export interface HopSeen {
  /** `scheme://host:port` the client addressed (from the `Host` header). */
  origin: string;
  method: string;
  path: string;
  /** Every `Authorization` header line, as sent. */
  authorization: string[];
  body: string;
}

/**
 * Three origins on loopback, standing for an API and two places its token must never reach:
 * - `allowed`: `http://localhost:P`, the provider's `baseUrls`;
 * - `subdomain`: `http://evil.localhost:P`, a subdomain of it on the same port (same socket, told
 *   apart by the `Host` header), which follow-redirects treats as "the same site" and keeps
 *   `Authorization` for;
 * - `foreign`: `http://127.0.0.1:Q`, another server.
 *
 * Every server answers `GET|POST /redirect?status=302&to=<url>` with that status and `Location`,
 * `/unauthorized` with 401, and anything else with 200 `{ "ok": true }`.
 */
export interface RedirectLab {
  allowed: string;
  subdomain: string;
  foreign: string;
  /** Every hop, in order, on every origin. */
  seen: HopSeen[];
  /** Resolves `localhost` and `*.localhost` to 127.0.0.1 (nothing else changes); for axios' `httpAgent`. */
  agent: Agent;
  /** A URL on `from` that redirects with `status` to `to`. */
  redirect(from: string, status: number, to: string): string;
  seenAt(origin: string): HopSeen[];
  close(): Promise<void>;
}

export async function startRedirectLab(): Promise<RedirectLab> {
  const seen: HopSeen[] = [];
  const handler = (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => {
    const origin = `http://${req.headers.host ?? ''}`;
    const url = new URL(req.url ?? '/', origin);
    seen.push({
      origin,
      method: req.method ?? '',
      path: url.pathname + url.search,
      authorization: headerLines(req, 'authorization'),
      body,
    });
    if (url.pathname === '/redirect') {
      res.writeHead(Number(url.searchParams.get('status')), { location: url.searchParams.get('to') ?? '/' });
      return void res.end();
    }
    const status = url.pathname === '/unauthorized' ? 401 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: status === 200 }));
  };
  const home = await listen(handler);
  const other = await listen(handler);
  const port = new URL(home.origin).port;
  const agent = new Agent({ lookup: loopbackLookup as never });
  return {
    allowed: `http://localhost:${port}`,
    subdomain: `http://evil.localhost:${port}`,
    foreign: other.origin,
    seen,
    agent,
    redirect: (from, status, to) => `${from}/redirect?status=${status}&to=${encodeURIComponent(to)}`,
    seenAt: (origin) => seen.filter((hop) => hop.origin === origin),
    close: async () => {
      agent.destroy();
      await home.close();
      await other.close();
    },
  };
}

/** `localhost` and its subdomains go to 127.0.0.1 (never `::1`, never a DNS query); the rest as usual. */
function loopbackLookup(
  hostname: string,
  options: { all?: boolean },
  callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
): void {
  if (hostname !== 'localhost' && !hostname.endsWith('.localhost')) {
    return dnsLookup(hostname, options as never, callback as never);
  }
  if (options.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
  callback(null, '127.0.0.1', 4);
}

function headerLines(req: IncomingMessage, name: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === name) lines.push(req.rawHeaders[i + 1]);
  }
  return lines;
}
