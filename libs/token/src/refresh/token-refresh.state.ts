import type { TokenInfo } from '../core/token-info.js';
import type { RefreshState } from '../core/token-stats.types.js';

/** What the decisions below read of a cache entry; `TokenCacheEntry` has all of it. */
export interface RefreshStateView {
  readonly info: TokenInfo | undefined;
  readonly refreshAt: number;
  readonly mustRefreshAt: number;
  readonly halfLifeAt: number;
  /** The last instant the token is handed out (its expiry less the hand-out guard). */
  readonly usableUntil: number;
  readonly inflight: Promise<TokenInfo> | undefined;
  readonly inflightInBackground: boolean;
  readonly consecutiveFailures: number;
  readonly nextAttemptAt: number;
  readonly lastRefreshDurationMs: number | undefined;
  /** Made from a per-call credential: never refreshed by the sweep. */
  readonly onDemandOnly: boolean;
}

/**
 * The one decision every path asks: the hot path (its comparison `now < refreshAt` is the first
 * clause, inlined), the slow path, the sweep, `getStats()` and health.
 */
export function refreshStateOf(entry: RefreshStateView, now: number): RefreshState {
  // A token inside its hand-out guard is not served: a request sent with it could reach the API late.
  if (now < entry.usableUntil) {
    if (now < entry.refreshAt) return 'fresh';
    if (now <= entry.mustRefreshAt) return 'should-refresh';
    // Inside the margin while the endpoint is known to fail: keep serving the valid token.
    if (entry.consecutiveFailures > 0) return 'cooling-down';
    // Inside the margin, but a background refresh began before this caller came: the endpoint is
    // slow or hanging, and waiting would only add its latency to a call that holds a valid token.
    if (entry.inflight !== undefined && entry.inflightInBackground) return 'should-refresh';
    return 'must-refresh';
  }
  // No valid token: fail fast while cooling down instead of calling a dead endpoint for every caller.
  if (entry.inflight === undefined && now < entry.nextAttemptAt) return 'cooling-down';
  return 'must-refresh';
}

/**
 * The entry's next instant of interest, the key the refresh schedule holds it by: the earliest a
 * sweep could want to refresh it. `undefined`: nothing happens to it until a caller comes (no token,
 * or a refresh under way, whose end schedules it again).
 */
export function nextInstantOf(entry: RefreshStateView): number | undefined {
  if (entry.info === undefined || entry.inflight !== undefined || entry.onDemandOnly) return undefined;
  if (entry.consecutiveFailures > 0) return entry.nextAttemptAt;
  const ahead = entry.mustRefreshAt - (entry.lastRefreshDurationMs ?? 0);
  return Math.min(entry.refreshAt, Math.max(entry.halfLifeAt, ahead));
}

/**
 * Whether a sweep, the next one being `horizonMs` away, starts a background refresh now: the token
 * is due, or would enter its margin (allowing for its last refresh's duration) before the next sweep,
 * but never before half its life (a token shorter than the sweep interval is left to its callers'
 * background refresh instead of being replaced just after it arrived), never during a backoff, and
 * never for a provider that was never fetched or was evicted.
 */
export function sweepShouldRefresh(entry: RefreshStateView, now: number, horizonMs: number): boolean {
  if (entry.info === undefined || entry.inflight !== undefined || entry.onDemandOnly) return false;
  if (now < entry.nextAttemptAt) return false;
  if (now >= entry.refreshAt) return true;
  const dueBy = now + horizonMs + (entry.lastRefreshDurationMs ?? 0);
  return now >= entry.halfLifeAt && dueBy > entry.mustRefreshAt;
}
