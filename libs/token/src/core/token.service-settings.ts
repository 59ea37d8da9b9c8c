import type { Clock } from './clock.js';
import type { TokenStore } from './token-store.interface.js';
import type { TokenRequestParameters } from './token-strategy.interface.js';

/**
 * How `TokenService` is built; the module fills it from its options.
 *
 * @publicApi
 */
export interface TokenServiceSettings {
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default: a `MemoryTokenStore` (nothing beyond the process). */
  store?: TokenStore;
  /** Margin of providers that set none. Default 300 000 ms. */
  safetyMarginMs?: number;
  /** Source of jitter; default `Math.random`. */
  random?: () => number;
  /** Longest a strategy's `generate()` may take before the refresh fails. Default 30 000 ms. */
  refreshTimeoutMs?: number;
  /** Per-call variants (scope, tenant…) kept per provider, least recently used dropped first. Default 100. */
  maxVariantsPerProvider?: number;
  /** Longest shutdown waits for refreshes under way before it abandons them. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
}

/** Injection token of {@link TokenServiceSettings}. */
export const TOKEN_SERVICE_SETTINGS = Symbol('TOKEN_SERVICE_SETTINGS');

/**
 * Per-call options of `getToken`. Scope, audience, resource and tenant ask for a variant of the
 * provider's token, cached on its own (the provider's strategy must support `withParameters`).
 *
 * @publicApi
 */
export interface GetTokenOptions extends TokenRequestParameters {
  /** Skip the cache and wait for a new token (joins a refresh already under way). */
  forceRefresh?: boolean;
}

/** Options of `TokenService.invalidate`. @publicApi */
export interface InvalidateOptions {
  /** Evict only if the cache still holds this token, e.g. the one an API just rejected with 401. */
  onlyIfToken?: string;
}
