import type { ProviderOptions } from '../config/provider-options.schema.js';
import type { TokenError } from '../token.errors.js';
import type { TokenInfo } from '../token-info.js';
import type { TokenStrategy } from '../token-strategy.interface.js';

/**
 * Everything `TokenService` keeps for one provider: its strategy, the cached token with its refresh
 * windows, the one in-flight refresh, failure state and counters. All fields exist from the start so
 * V8 keeps one object shape and the hot path stays a property read.
 */
export class TokenCacheEntry {
  info: TokenInfo | undefined = undefined;
  /** `info`, already resolved: a cache hit hands out this very promise and allocates nothing. */
  resolved: Promise<TokenInfo> | undefined = undefined;
  /** Fresh until here; -Infinity when there is no token, so the hot-path test fails without a branch. */
  refreshAt = -Infinity;
  /**
   * True from a token's arrival until `refreshAt`, cleared by the service's freshness timer: a cache
   * hit reads this flag instead of the clock (`Date.now()` costs as much as the rest of a hit). Only
   * set on the system clock; with any other clock it stays false and hits compare `refreshAt`.
   */
  fresh = false;
  /** Inside the margin after here: callers wait for the refresh. */
  mustRefreshAt = -Infinity;
  /** Half the token's lifetime: the sweep never refreshes it before this. */
  halfLifeAt = -Infinity;
  inflight: Promise<TokenInfo> | undefined = undefined;
  /** The in-flight refresh was started behind callers (sweep or should-refresh), not by a waiting caller. */
  inflightInBackground = false;
  /** Bumped on eviction, so a refresh that started before it cannot store a token after it. */
  generation = 0;

  nextAttemptAt = 0;
  consecutiveFailures = 0;
  lastError: TokenError | undefined = undefined;
  /** The "no valid token" error was logged for the current failure episode. */
  expiryReported = false;

  hits = 0;
  misses = 0;
  refreshes = 0;
  failures = 0;
  fallbacks = 0;
  /** Requests retried once after an API answered 401 with this provider's token. */
  unauthorizedRetries = 0;
  lastRefreshAt: number | undefined = undefined;
  lastRefreshDurationMs: number | undefined = undefined;

  /** Per-call variants (another scope, tenant…) by their label; created on first use. */
  variants: Map<string, TokenCacheEntry> | undefined = undefined;
  /** A variant with a valid token had to be dropped; logged once. */
  variantsOverflowed = false;

  constructor(
    readonly name: string,
    readonly strategy: TokenStrategy,
    readonly options: Readonly<ProviderOptions>,
    readonly safetyMarginMs: number,
  ) {}

  /** This entry and its per-call variants. */
  *withVariants(): IterableIterator<TokenCacheEntry> {
    yield this;
    if (this.variants !== undefined) yield* this.variants.values();
  }

  /**
   * Forgets the token. A refresh already under way is let go too: its callers still get its result,
   * but a caller arriving after the eviction starts a new one, so it cannot be handed the token that
   * was just evicted (e.g. one an API rejected with 401).
   */
  evict(): void {
    this.fresh = false;
    this.info = undefined;
    this.resolved = undefined;
    this.refreshAt = -Infinity;
    this.mustRefreshAt = -Infinity;
    this.halfLifeAt = -Infinity;
    this.inflight = undefined;
    this.inflightInBackground = false;
    this.generation++;
  }
}
