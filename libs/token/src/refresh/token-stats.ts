import type { TokenCacheEntry } from './token-cache-entry.js';

/**
 * State of one provider in `getStats()`. No token value, no secret.
 *
 * @publicApi
 */
export interface ProviderTokenStats {
  cached: boolean;
  /** Milliseconds until the cached token expires (negative once expired; null with no token). */
  expiresIn: number | null;
  isExpired: boolean;
  isNearExpiry: boolean;
  /** Epoch ms of the last successful refresh. */
  lastRefreshAt: number | null;
  lastRefreshDurationMs: number | null;
  consecutiveFailures: number;
  /** The last refresh failed: the provider runs on its cached token or has none. */
  degraded: boolean;
  hits: number;
  misses: number;
  refreshes: number;
  failures: number;
  fallbacks: number;
  /** Requests the HTTP integration retried after a 401. */
  unauthorizedRetries: number;
}

/**
 * What `TokenService.getStats()` returns.
 *
 * @publicApi
 */
export interface TokenStats {
  totalCached: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 before any call. */
  hitRate: number;
  refreshes: number;
  failures: number;
  fallbacks: number;
  unauthorizedRetries: number;
  /** By provider name; a per-call variant as `name (scope=…)`. */
  tokens: Record<string, ProviderTokenStats>;
}

/** Sums the counters of every entry and describes each one; reads no token value. */
export function collectTokenStats(entries: Iterable<TokenCacheEntry>, now: number): TokenStats {
  const stats: TokenStats = {
    totalCached: 0,
    hits: 0,
    misses: 0,
    hitRate: 0,
    refreshes: 0,
    failures: 0,
    fallbacks: 0,
    unauthorizedRetries: 0,
    tokens: {},
  };
  for (const entry of entries) {
    const info = entry.info;
    if (info !== undefined) stats.totalCached++;
    stats.hits += entry.hits;
    stats.misses += entry.misses;
    stats.refreshes += entry.refreshes;
    stats.failures += entry.failures;
    stats.fallbacks += entry.fallbacks;
    stats.unauthorizedRetries += entry.unauthorizedRetries;
    stats.tokens[entry.name] = {
      cached: info !== undefined,
      expiresIn: info === undefined ? null : info.expiresAt - now,
      isExpired: info === undefined || info.isExpiredAt(now),
      isNearExpiry: info === undefined || now > entry.mustRefreshAt,
      lastRefreshAt: entry.lastRefreshAt ?? null,
      lastRefreshDurationMs: entry.lastRefreshDurationMs ?? null,
      consecutiveFailures: entry.consecutiveFailures,
      degraded: entry.consecutiveFailures > 0,
      hits: entry.hits,
      misses: entry.misses,
      refreshes: entry.refreshes,
      failures: entry.failures,
      fallbacks: entry.fallbacks,
      unauthorizedRetries: entry.unauthorizedRetries,
    };
  }
  const calls = stats.hits + stats.misses;
  stats.hitRate = calls === 0 ? 0 : stats.hits / calls;
  return stats;
}
