import type { ProviderOptions } from '../config/provider-options.schema.js';
import type { TokenError } from '../token.errors.js';
import type { TokenInfo } from '../token-info.js';
import type { TokenStrategy } from '../token-strategy.interface.js';
import { NO_INCIDENTS, TokenCacheEntryIncidents } from './token-cache-entry.incidents.js';

/** `scheduleSlot` of an entry that is in neither the schedule's heap nor its due list. */
export const UNSCHEDULED = -1;
/** `scheduleSlot` of an entry whose instant has passed and that waits in the due list for a sweep. */
export const DUE = -2;

/**
 * Everything `TokenService` keeps for one provider: its strategy, the cached token with its refresh
 * windows, its place in the refresh schedule, the refresh under way and counters. What the fields
 * mean together (fresh, should refresh, must refresh, cooling down) is decided in one place,
 * `token-refresh.state.ts`. Every field exists from the start so V8 keeps one object shape and the
 * hot path stays a property read. What only a failure, a 401 or an eviction sets lives in
 * {@link TokenCacheEntryIncidents}, created on first use; the accessors below read its initial
 * values until then, and writing one creates it.
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
  /** Bumped on eviction, so a refresh that started before it cannot store a token after it. */
  generation = 0;

  /** Heap index in the refresh schedule, or {@link UNSCHEDULED} / {@link DUE}. */
  scheduleSlot = UNSCHEDULED;
  /** The instant the schedule holds this entry for (its next instant of interest). */
  dueAt = Infinity;

  hits = 0;
  misses = 0;
  refreshes = 0;
  lastRefreshAt: number | undefined = undefined;
  lastRefreshDurationMs: number | undefined = undefined;

  /** Per-call variants (another scope, tenant…) by the key of their parameters; created on first use. */
  variants: Map<string, TokenCacheEntry> | undefined = undefined;
  /** Failure, 401, queued-refresh and variant-overflow state; created on first use. */
  incidents: TokenCacheEntryIncidents | undefined = undefined;

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

  /** After a successful refresh: the failure episode is over. Creates nothing when there was none. */
  clearFailure(): void {
    const incidents = this.incidents;
    if (incidents === undefined) return;
    incidents.consecutiveFailures = 0;
    incidents.nextAttemptAt = 0;
    incidents.lastError = undefined;
    incidents.expiryReported = false;
  }

  private get written(): TokenCacheEntryIncidents {
    return (this.incidents ??= new TokenCacheEntryIncidents());
  }

  /** The one refresh waiting for `running` to finish; it takes the generation current when it starts. */
  get queued(): Promise<TokenInfo> | undefined {
    return (this.incidents ?? NO_INCIDENTS).queued;
  }
  set queued(value: Promise<TokenInfo> | undefined) {
    this.written.queued = value;
  }

  /** No refresh before this instant (backoff after a failure). */
  get nextAttemptAt(): number {
    return (this.incidents ?? NO_INCIDENTS).nextAttemptAt;
  }
  set nextAttemptAt(value: number) {
    this.written.nextAttemptAt = value;
  }

  get consecutiveFailures(): number {
    return (this.incidents ?? NO_INCIDENTS).consecutiveFailures;
  }
  set consecutiveFailures(value: number) {
    this.written.consecutiveFailures = value;
  }

  get lastError(): TokenError | undefined {
    return (this.incidents ?? NO_INCIDENTS).lastError;
  }
  set lastError(value: TokenError | undefined) {
    this.written.lastError = value;
  }

  /** The "no valid token" error was logged for the current failure episode. */
  get expiryReported(): boolean {
    return (this.incidents ?? NO_INCIDENTS).expiryReported;
  }
  set expiryReported(value: boolean) {
    this.written.expiryReported = value;
  }

  get failures(): number {
    return (this.incidents ?? NO_INCIDENTS).failures;
  }
  set failures(value: number) {
    this.written.failures = value;
  }

  get fallbacks(): number {
    return (this.incidents ?? NO_INCIDENTS).fallbacks;
  }
  set fallbacks(value: number) {
    this.written.fallbacks = value;
  }

  /** Requests retried once after an API answered 401 with this provider's token. */
  get unauthorizedRetries(): number {
    return (this.incidents ?? NO_INCIDENTS).unauthorizedRetries;
  }
  set unauthorizedRetries(value: number) {
    this.written.unauthorizedRetries = value;
  }

  /** The token a renewal after a 401 brought; the API rejecting it too means renewing does not help. */
  get renewedToken(): string | undefined {
    return (this.incidents ?? NO_INCIDENTS).renewedToken;
  }
  set renewedToken(value: string | undefined) {
    this.written.renewedToken = value;
  }

  /** The renewed token whose rejection is already counted in `rejectedRenewals`. */
  get countedRejection(): string | undefined {
    return (this.incidents ?? NO_INCIDENTS).countedRejection;
  }
  set countedRejection(value: string | undefined) {
    this.written.countedRejection = value;
  }

  /** Renewals after a 401 in a row whose new token was rejected as well. */
  get rejectedRenewals(): number {
    return (this.incidents ?? NO_INCIDENTS).rejectedRenewals;
  }
  set rejectedRenewals(value: number) {
    this.written.rejectedRenewals = value;
  }

  /** No 401-driven renewal before this instant. */
  get nextRenewalAt(): number {
    return (this.incidents ?? NO_INCIDENTS).nextRenewalAt;
  }
  set nextRenewalAt(value: number) {
    this.written.nextRenewalAt = value;
  }

  /** A variant with a valid token had to be dropped; logged once. */
  get variantsOverflowed(): boolean {
    return (this.incidents ?? NO_INCIDENTS).variantsOverflowed;
  }
  set variantsOverflowed(value: boolean) {
    this.written.variantsOverflowed = value;
  }
}
