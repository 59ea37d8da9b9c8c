import type { TokenEventMap } from '../token.events.js';
import type { TokenStats } from '../refresh/token-stats.js';

/**
 * What the metrics read from `TokenService`: its counters and its events. Anything with these two
 * members will do, which keeps this entry point free of Nest and of the service's own imports.
 */
export interface TokenMetricsSource {
  getStats(): TokenStats;
  readonly events: {
    on(event: 'refreshed', listener: (...payload: TokenEventMap['refreshed']) => void): unknown;
    off(event: 'refreshed', listener: (...payload: TokenEventMap['refreshed']) => void): unknown;
  };
}

/** One provider's figures in a {@link TokenMetricsSnapshot}. */
export interface ProviderMetricsSnapshot {
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 before any call. */
  hitRate: number;
  refreshes: number;
  refreshFailures: number;
  /** Calls answered with the still-valid cached token while a refresh was failing. */
  fallbacksServed: number;
  unauthorizedRetries: number;
  /** Seconds until the cached token expires (negative once expired); null with no token. */
  expiresInSeconds: number | null;
  /** 1 while the last refresh failed (the provider runs on its cached token or has none), else 0. */
  degraded: 0 | 1;
  lastRefreshDurationSeconds: number | null;
}

/**
 * Plain numbers for any metrics pipeline (OpenTelemetry observable callbacks, StatsD, a JSON health
 * page). Keys are provider names; no token, no secret.
 *
 * @publicApi
 */
export interface TokenMetricsSnapshot {
  tokensCached: number;
  hits: number;
  misses: number;
  hitRate: number;
  refreshes: number;
  refreshFailures: number;
  fallbacksServed: number;
  unauthorizedRetries: number;
  providers: Record<string, ProviderMetricsSnapshot>;
}

/**
 * The service's figures as a {@link TokenMetricsSnapshot}, read from `getStats()`: cheap enough to call
 * on every scrape or collection cycle.
 *
 * @publicApi
 * @example
 * app.get('/internal/token-metrics', () => tokenMetricsSnapshot(tokenService));
 */
export function tokenMetricsSnapshot(source: Pick<TokenMetricsSource, 'getStats'>): TokenMetricsSnapshot {
  const stats = source.getStats();
  const providers: Record<string, ProviderMetricsSnapshot> = {};
  for (const [name, token] of Object.entries(stats.tokens)) {
    const calls = token.hits + token.misses;
    providers[name] = {
      hits: token.hits,
      misses: token.misses,
      hitRate: calls === 0 ? 0 : token.hits / calls,
      refreshes: token.refreshes,
      refreshFailures: token.failures,
      fallbacksServed: token.fallbacks,
      unauthorizedRetries: token.unauthorizedRetries,
      expiresInSeconds: token.expiresIn === null ? null : token.expiresIn / 1000,
      degraded: token.degraded ? 1 : 0,
      lastRefreshDurationSeconds:
        token.lastRefreshDurationMs === null ? null : token.lastRefreshDurationMs / 1000,
    };
  }
  return {
    tokensCached: stats.totalCached,
    hits: stats.hits,
    misses: stats.misses,
    hitRate: stats.hitRate,
    refreshes: stats.refreshes,
    refreshFailures: stats.failures,
    fallbacksServed: stats.fallbacks,
    unauthorizedRetries: stats.unauthorizedRetries,
    providers,
  };
}
