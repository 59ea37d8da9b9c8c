import type { TokenClient } from './alternatives.js';
import { elapsedNs, yieldToLoop } from './stats.js';
import { benchTokenTimes } from './token-endpoint.js';

/** What a steady load saw. "Waited" means the caller's token was not there in the turn it asked. */
export interface LoadReport {
  calls: number;
  /** Calls whose promise settled only after the event loop had moved on: they waited on I/O (a refresh). */
  waited: number;
  failed: number;
  /** Tokens that the issuing endpoint already held for expired at the moment they would be sent (or unknown ones). */
  expiredSends: number;
  maxLatencyMs: number;
  /** For each token seen: when the endpoint issued it, and when a caller last used it (epoch ms). */
  tokenUse: Map<string, { issuedAt: number; lastUsedAt: number }>;
  firstError?: string;
}

/** The access token string inside whatever a client hands back. */
export function tokenOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const record = value as { token?: unknown; accessToken?: unknown } | null;
  if (typeof record?.token === 'string') return record.token; // TokenInfo, Azure AccessToken, google
  if (typeof record?.accessToken === 'string') return record.accessToken; // badgateway
  const nested = record?.token as { access_token?: unknown } | undefined; // simple-oauth2 AccessToken
  if (typeof nested?.access_token === 'string') return nested.access_token;
  throw new Error('no token in the client result');
}

/**
 * `workers` callers in a loop for `durationMs`: each asks for a token, "sends" it (checks the expiry
 * the endpoint wrote into it), and yields to the event loop before the next call, as a server
 * handling requests does. A turn counter driven by `setImmediate` tells a cache hit (settled in the
 * same turn) from a caller that waited on a refresh, whatever the machine's load.
 */
export async function steadyLoad(client: TokenClient, durationMs: number, workers = 16): Promise<LoadReport> {
  const report: LoadReport = {
    calls: 0,
    waited: 0,
    failed: 0,
    expiredSends: 0,
    maxLatencyMs: 0,
    tokenUse: new Map(),
  };
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const deadline = Date.now() + durationMs;

  const worker = async () => {
    while (Date.now() < deadline) {
      const turnBefore = turn;
      const start = process.hrtime.bigint();
      try {
        const value = await client.getToken();
        const now = Date.now();
        const token = tokenOf(value);
        const times = benchTokenTimes(token);
        if (times === undefined || now >= times.expiresAt) report.expiredSends++;
        const use = report.tokenUse.get(token);
        if (use === undefined) {
          report.tokenUse.set(token, { issuedAt: times?.issuedAt ?? now, lastUsedAt: now });
        } else {
          use.lastUsedAt = now;
        }
      } catch (error) {
        report.failed++;
        report.firstError ??= (error as Error).message;
      }
      if (turn !== turnBefore) report.waited++;
      report.calls++;
      report.maxLatencyMs = Math.max(report.maxLatencyMs, elapsedNs(start) / 1e6);
      await yieldToLoop();
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  ticking = false;
  return report;
}
