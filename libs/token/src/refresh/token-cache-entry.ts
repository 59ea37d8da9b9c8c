import type { ProviderOptions } from '../config/provider-options.schema.js';
import type { TokenError } from '../token.errors.js';
import type { TokenInfo } from '../token-info.js';
import type { TokenStrategy } from '../token-strategy.interface.js';

/** `scheduleSlot` of an entry that is in neither the schedule's heap nor its due list. */
export const UNSCHEDULED = -1;
/** `scheduleSlot` of an entry whose instant has passed and that waits in the due list for a sweep. */
export const DUE = -2;

/**
 * Everything `TokenService` keeps for one provider: its strategy, the cached token with its refresh
 * windows, its place in the refresh schedule, the refresh under way, failure state and counters.
 * What the fields mean together (fresh, should refresh, must refresh, cooling down) is decided in one
 * place, `token-refresh.state.ts`. Every field exists from the start so V8 keeps one object shape
 * and the hot path stays a property read.
 */
export class TokenCacheEntry {
  info: TokenInfo | undefined = undefined;
  /** `info`, already resolved: a cache hit hands out this very promise and allocates nothing. */
  resolved: Promise<TokenInfo> | undefined = undefined;
  /** Fresh before here; -Infinity without a token, so the hot-path comparison fails without a branch. */
  refreshAt = -Infinity;
  /** Inside the margin after here: callers wait for the refresh. */
  mustRefreshAt = -Infinity;
  /** Half the token's lifetime: the sweep never refreshes it before this. */
  halfLifeAt = -Infinity;

  /** The refresh the callers of this generation share (running, or queued behind an older one). */
  inflight: Promise<TokenInfo> | undefined = undefined;
  /** The in-flight refresh was started behind callers (sweep or should-refresh), not by a waiting caller. */
  inflightInBackground = false;
  /** The one `store.obtain` actually running, whatever generation started it. */
  running: Promise<unknown> | undefined = undefined;
  /** The one refresh waiting for `running` to finish; it takes the generation current when it starts. */
  queued: Promise<TokenInfo> | undefined = undefined;
  /** Bumped on eviction, so a refresh that started before it cannot store a token after it. */
  generation = 0;

  /** Heap index in the refresh schedule, or {@link UNSCHEDULED} / {@link DUE}. */
  scheduleSlot = UNSCHEDULED;
  /** The instant the schedule holds this entry for (its next instant of interest). */
  dueAt = Infinity;

  nextAttemptAt = 0;
  consecutiveFailures = 0;
  lastError: TokenError | undefined = undefined;
  /** The "no valid token" error was logged for the current failure episode. */
  expiryReported = false;

  /** The token a renewal after a 401 brought; the API rejecting it too means renewing does not help. */
  renewedToken: string | undefined = undefined;
  /** The renewed token whose rejection is already counted in `rejectedRenewals`. */
  countedRejection: string | undefined = undefined;
  /** Renewals after a 401 in a row whose new token was rejected as well. */
  rejectedRenewals = 0;
  /** No 401-driven renewal before this instant. */
  nextRenewalAt = 0;

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
   * but a caller arriving after the eviction gets a refresh that starts after it, so it cannot be
   * handed the token that was just evicted (e.g. one an API rejected with 401). The caller removes
   * the entry from the schedule.
   */
  evict(): void {
    this.info = undefined;
    this.resolved = undefined;
    this.refreshAt = -Infinity; // the hot path's test now fails; nothing else reads the windows without `info`
    this.inflight = undefined;
    this.inflightInBackground = false;
    this.generation++;
  }
}
