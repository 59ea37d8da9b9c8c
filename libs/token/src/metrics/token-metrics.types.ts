import type { TokenEventMap } from '../core/token.events.js';
import type { TokenEntryCounters, TokenStats } from '../core/token-stats.types.js';

// The shapes the metrics read and return, apart from the code so that token-metrics.providers.ts
// and token-metrics.snapshot.ts can share them without importing each other.

/**
 * What the metrics read from `TokenService`: its counters and its events. Anything with these two
 * members will do, which keeps this entry point free of Nest and of the service's own imports.
 */
export interface TokenMetricsSource {
  getStats(): TokenStats;
  /**
   * The registered provider names (`TokenService` has it): tells a per-call variant's stats entry,
   * `graph (tenant=a)`, from a provider that happens to be named so. Optional for other sources.
   */
  providerNames?(): string[];
  /**
   * Visits every token entry's counters, each per-call variant under its provider's name, with the
   * clock's now (`TokenService` has it): lets a Prometheus scrape of many providers read them without
   * a `getStats()` record each. Optional for other sources.
   */
  forEachTokenEntry?(visit: (provider: string, entry: TokenEntryCounters, now: number) => void): void;
  readonly events: {
    on(event: 'refreshed', listener: (...payload: TokenEventMap['refreshed']) => void): unknown;
    off(event: 'refreshed', listener: (...payload: TokenEventMap['refreshed']) => void): unknown;
  };
}

/** One provider's figures in a {@link TokenMetricsSnapshot}, its per-call variants summed in. */
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
  /**
   * Seconds until its soonest-expiring cached token (its own or a variant's) expires, negative once
   * expired; null with no token.
   */
  expiresInSeconds: number | null;
  /**
   * 1 while the last refresh of its token, or of one of its variants, failed (it runs on a cached
   * token or has none), else 0.
   */
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
