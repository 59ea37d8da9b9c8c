/** What `getStats()` and the metrics exporters read of the cache: types only, no token value. */

/**
 * Where a provider's cached token stands at an instant, as in Azure's token cycler:
 * - `fresh`: served from memory, nothing else happens;
 * - `should-refresh`: served, and one refresh runs behind the callers;
 * - `must-refresh`: no valid token, or one inside its margin: callers wait for the one shared refresh;
 * - `cooling-down`: the last refresh failed and its backoff has not passed (or it keeps failing while
 *   the token is inside its margin): a still-valid token is served, otherwise callers fail at once.
 *
 * @publicApi
 */
export type RefreshState = 'fresh' | 'should-refresh' | 'must-refresh' | 'cooling-down';

/**
 * State of one provider in `getStats()`. No token value, no secret.
 *
 * @publicApi
 */
export interface ProviderTokenStats {
  /** The registered provider this entry belongs to (itself, or the provider of a per-call variant). */
  provider: string;
  cached: boolean;
  /** Where the token stands: `fresh`, `should-refresh`, `must-refresh` or `cooling-down`. */
  state: RefreshState;
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
  /**
   * By provider name; a per-call variant as `name (scope=…)` (its `provider` field names its
   * provider: read that rather than the name). Should a registered name equal a variant's, the
   * variant is listed as `name (scope=…) #2`: registered names are never overwritten.
   */
  tokens: Record<string, ProviderTokenStats>;
}

/**
 * What a metrics exporter reads of one cache entry on every scrape: the entry itself, read-only,
 * so a scrape of N providers builds no record per provider.
 */
export interface TokenEntryCounters {
  /** The entry's name: the provider's, or a per-call variant's (`graph (tenant=a)`). */
  readonly name: string;
  readonly info: { readonly expiresAt: number } | undefined;
  readonly lastRefreshDurationMs: number | undefined;
  readonly consecutiveFailures: number;
  readonly hits: number;
  readonly misses: number;
  readonly refreshes: number;
  readonly failures: number;
  readonly fallbacks: number;
  readonly unauthorizedRetries: number;
}
