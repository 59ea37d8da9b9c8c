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
  tokens: Record<string, ProviderTokenStats>;
}
