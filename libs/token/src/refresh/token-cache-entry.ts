import type { ProviderOptions } from '../config/provider-options.schema.js';
import type { TokenError } from '../core/token.errors.js';
import type { TokenInfo } from '../core/token-info.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';
import { NO_INCIDENTS, TokenCacheEntryIncidents } from './token-cache-entry.incidents.js';
import { nextAttemptDelayMs, retryDelayMs, type RefreshWindows } from './token-refresh.policy.js';

/** `scheduleSlot` of an entry that is in neither the schedule's heap nor its due list. */
export const UNSCHEDULED = -1;
/** `scheduleSlot` of an entry whose instant has passed and that waits in the due list for a sweep. */
export const DUE = -2;

/** The longest hand-out guard: a request sent with a token reaches the API well within it. */
const HAND_OUT_GUARD_MAX_MS = 250;
/** What the last attempt before `usableUntil` allows beyond twice its expected duration. */
const LAST_ATTEMPT_SLACK_MS = 100;

/**
 * How long before its expiry a token is no longer handed out, so that a request sent with it does
 * not reach the API after it expired: a twentieth of the token's margin, at most 250 ms (none with
 * a zero margin).
 */
export function handOutGuardMs(marginMs: number): number {
  return Math.min(HAND_OUT_GUARD_MAX_MS, marginMs / 20);
}

/**
 * The latest instant the last refresh attempt while a token is held may start: early enough to
 * finish before `usableUntil`, allowing twice its expected duration (the last one measured) and a slack.
 */
export function lastAttemptDueAt(usableUntil: number, expectedDurationMs: number | undefined): number {
  return usableUntil - 2 * (expectedDurationMs ?? 0) - LAST_ATTEMPT_SLACK_MS;
}

/** Renewed tokens in a row the API rejects before accepting any, after which renewals back off. */
const REJECTED_RENEWALS_BEFORE_BACKOFF = 2;

/** What a renewal after a 401 does: renew now, use the token already current, or hold (cool-down). */
export type UnauthorizedRenewal = 'renew' | 'use-current' | 'hold';

/** Where a token the cell takes in came from. */
export type TokenSource =
  /** a refresh of this replica got it from the token endpoint (or the strategy) */
  | 'issued'
  /** another replica stored it in the shared store, and this refresh took it */
  | 'shared'
  /** the shared store handed back the token this cell already holds (another replica holds the lease) */
  | 'held';

/** The states of a cell, as the diagram shows them (`refreshing`: a refresh is in flight). */
export type CellState = 'empty' | 'fresh' | 'should-refresh' | 'must-refresh' | 'cooling-down' | 'refreshing';

/** One named transition of the cell: the method that performs it, and the states it leaves and enters. */
export interface CellTransition {
  readonly name: string;
  readonly from: readonly CellState[];
  /** `undefined`: the cell stays in the state it was in. */
  readonly to: CellState | undefined;
  readonly why: string;
}

/**
 * The transition table of the cell. Time alone moves a held token from fresh to should-refresh to
 * must-refresh (its windows); every other change is one of these.
 */
export const CELL_TRANSITIONS: readonly CellTransition[] = [
  { name: 'served', from: ['fresh', 'should-refresh'], to: undefined, why: 'a caller gets the cached token' },
  {
    name: 'fallbackServed',
    from: ['cooling-down'],
    to: undefined,
    why: 'refreshes fail; the usable token is served',
  },
  {
    name: 'refreshStarted',
    from: ['empty', 'should-refresh', 'must-refresh', 'cooling-down'],
    to: 'refreshing',
    why: 'one shared refresh (one more queued behind one an eviction let go)',
  },
  { name: 'refreshed', from: ['refreshing'], to: 'fresh', why: 'the endpoint issued a token' },
  { name: 'sharedByReplica', from: ['refreshing'], to: 'fresh', why: 'another replica stored a fresh token' },
  {
    name: 'failed',
    from: ['refreshing'],
    to: 'cooling-down',
    why: 'back off; the last attempt finishes before usableUntil',
  },
  {
    name: 'evicted',
    from: ['fresh', 'should-refresh', 'must-refresh', 'cooling-down', 'refreshing'],
    to: 'empty',
    why: 'invalidate(), clear(), a dropped variant, another replica invalidated',
  },
  {
    name: 'rejectedByApi',
    from: ['fresh', 'should-refresh', 'must-refresh'],
    to: 'empty',
    why: '401 to an accepted (or ordinarily refreshed) token: a revocation, renewed at once',
  },
  {
    name: 'rejectedByApi',
    from: ['fresh', 'should-refresh', 'must-refresh'],
    to: 'cooling-down',
    why: '401 to a renewed token never accepted: renewals back off',
  },
  {
    name: 'acceptedByApi',
    from: ['fresh', 'should-refresh', 'must-refresh'],
    to: undefined,
    why: 'a renewed token is an ordinary one from now on',
  },
  {
    name: 'closed',
    from: ['empty', 'fresh', 'should-refresh', 'must-refresh', 'cooling-down', 'refreshing'],
    to: 'empty',
    why: 'the provider is unregistered',
  },
];

/**
 * The token cell of one provider (or per-call variant): the one state machine of its token. Every
 * write to the refresh fields below happens in this file, through the named transitions of the
 * table; everything else (the engine, the refresher, the service, stats, metrics, health) reads.
 * `token-cache-entry.writes.spec.ts` fails if another file under `libs/token/src` assigns one.
 *
 * States (what `refreshStateOf` derives from the fields at an instant):
 *   empty          no token (never fetched, evicted, closed)
 *   fresh          now < refreshAt: served from memory, nothing else happens
 *   should-refresh refreshAt <= now <= mustRefreshAt: served, one refresh behind the callers
 *   must-refresh   inside the margin or no usable token: callers wait for the one shared refresh
 *   cooling-down   the last refresh failed: a usable token is served, otherwise callers fail fast
 *                  until nextAttemptAt
 *
 * The transitions are the methods below, each named in {@link CELL_TRANSITIONS} with the states it
 * leaves and enters; `docs/cell-states.mmd` is generated from that table (`npm run cell-diagram`).
 *
 * GUARANTEES (checked over random event sequences by `token-cell.model.fuzz.spec.ts`):
 * 1. No caller is handed a token past its expiry, nor within the hand-out guard before it
 *    ({@link handOutGuardMs}): `usableUntil` is the last instant a token is served.
 * 2. While a usable token is held no caller fails: a failed refresh falls back to it.
 * 3. At most one refresh runs and one is queued per cell (the queued one only behind a refresh that
 *    an eviction let go); every caller of a generation shares one promise.
 * 4. No caller waits while a usable token outside the must-refresh margin is held.
 * 5. A token the API accepted and then rejects (a revocation) is replaced at once; only tokens
 *    rejected before they were ever accepted count toward the 401 backoff (from the second in a row).
 * 6. Token requests per token lifetime stay bounded under any failure pattern: failures back off
 *    (1 s doubling to 60 s), the last attempt while a token is held is due early enough to finish
 *    before `usableUntil`, and a token rejected on arrival backs renewals off the same way.
 * 7. Every caller settles: a refresh is bounded by `refreshTimeoutMs`.
 *
 * Every field exists from the start so V8 keeps one object shape and the hot path stays a property
 * read. What only a failure, a 401 or an eviction sets lives in {@link TokenCacheEntryIncidents},
 * created on first write.
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
  /** The last instant the token is handed out: its expiry less the hand-out guard. */
  usableUntil = -Infinity;

  /** The refresh the callers of this generation share (running, or queued behind an older one). */
  inflight: Promise<TokenInfo> | undefined = undefined;
  /** The in-flight refresh was started behind callers (sweep or should-refresh), not by a waiting caller. */
  inflightInBackground = false;
  /** The one `store.obtain` actually running, whatever generation started it. */
  running: Promise<unknown> | undefined = undefined;
  /** Bumped on eviction, so a refresh that started before it cannot store a token after it. */
  generation = 0;
  /**
   * Made from a per-call credential (a subject token): refreshed only when its caller calls, never by
   * the sweep, and dropped once the server refuses the credential.
   */
  onDemandOnly = false;

  /** Heap index in the refresh schedule, or {@link UNSCHEDULED} / {@link DUE}. Written by the schedule. */
  scheduleSlot = UNSCHEDULED;
  /** The instant the schedule holds this entry for (its next instant of interest). Written by the schedule. */
  dueAt = Infinity;

  /** Cache hits; the hot path in `TokenService` counts them itself (its one write outside this file). */
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

  // ── transitions ──────────────────────────────────────────────────────────────────────────────

  /** `served`: a caller got the cached token on the slow path (the hot path counts its own). */
  served(): void {
    this.hits++;
  }

  /** A caller found no token it could be served at once (it waits, or fails fast). */
  missed(): void {
    this.misses++;
  }

  /** `fallbackServed`: a refresh failed, or the backoff holds, and the still-usable token is served. */
  fallbackServed(): void {
    this.written.fallbacks++;
  }

  /** The cell came from a per-call credential: see {@link onDemandOnly}. */
  madeFromPerCallCredential(): void {
    this.onDemandOnly = true;
  }

  /**
   * `refreshStarted`: `pending` is the refresh the callers of this generation share from now on;
   * `queued` when it waits behind one an eviction let go.
   */
  refreshStarted(pending: Promise<TokenInfo>, background: boolean, queued: boolean): void {
    if (queued) this.written.queued = pending;
    this.inflight = pending;
    this.inflightInBackground = background;
  }

  /** The queued refresh begins its own `store.obtain`. */
  queuedRefreshBegan(): void {
    this.written.queued = undefined;
  }

  /** A `store.obtain` begins (`running`) or ends for this cell. */
  obtainBegan(obtained: Promise<unknown>): void {
    this.running = obtained;
  }
  obtainEnded(obtained: Promise<unknown>): void {
    if (this.running === obtained) this.running = undefined;
  }

  /** The shared refresh `shared` settled: a later caller starts another. */
  refreshSettled(shared: Promise<TokenInfo>): void {
    if (this.inflight === shared) this.inflight = undefined;
  }

  /**
   * `refreshed` / `sharedByReplica`: a new token and its refresh windows. `held` (the store handed
   * back the token already held) replans it without counting a refresh. Ends a failure episode.
   * Returns the consecutive failures the success ended.
   */
  refreshed(
    info: TokenInfo,
    windows: RefreshWindows,
    now: number,
    startedAt: number,
    source: TokenSource,
  ): number {
    this.info = info;
    this.resolved = Promise.resolve(info);
    this.refreshAt = windows.refreshAt;
    this.mustRefreshAt = windows.mustRefreshAt;
    this.halfLifeAt = windows.halfLifeAt;
    this.usableUntil = info.expiresAt - handOutGuardMs(windows.marginMs);
    if (source === 'held') return 0;
    const failuresBefore = this.consecutiveFailures;
    this.refreshes++;
    this.lastRefreshAt = now;
    this.lastRefreshDurationMs = now - startedAt;
    const incidents = this.incidents;
    if (incidents !== undefined) {
      incidents.consecutiveFailures = 0;
      incidents.nextAttemptAt = 0;
      incidents.lastError = undefined;
      incidents.expiryReported = false;
    }
    return failuresBefore;
  }

  /** `sharedByReplica`: the refresh took a fresh token another replica stored. */
  sharedByReplica(info: TokenInfo, windows: RefreshWindows, now: number, startedAt: number): number {
    return this.refreshed(info, windows, now, startedAt, 'shared');
  }

  /**
   * `failed`: a refresh of the current generation failed. Backs off (1 s doubling to 60 s, or the
   * server's `Retry-After`); while a usable token is held, the next attempt is due early enough to
   * finish before `usableUntil` (its expected duration plus a margin), and never after it. Returns
   * the delay before the next attempt.
   */
  failed(
    failure: TokenError,
    now: number,
    random: () => number,
    requestedDelayMs: number | undefined,
  ): number {
    const incidents = this.written;
    incidents.failures++;
    incidents.consecutiveFailures++;
    incidents.lastError = failure;
    let validForMs: number | undefined;
    if (now < this.usableUntil) {
      const lastDue = lastAttemptDueAt(this.usableUntil, this.lastRefreshDurationMs);
      // Before the last attempt's instant: none later than it. After it: one more by `usableUntil`.
      validForMs = (now < lastDue ? lastDue : this.usableUntil) - now;
    }
    const delayMs = nextAttemptDelayMs(incidents.consecutiveFailures, random, requestedDelayMs, validForMs);
    incidents.nextAttemptAt = now + delayMs;
    return delayMs;
  }

  /** Records that the "no valid token" error was logged for this failure episode; true the first time. */
  noValidTokenReported(): boolean {
    if (this.expiryReported) return false;
    this.written.expiryReported = true;
    return true;
  }

  /**
   * `evicted`: forgets the token. A refresh already under way is let go too: its callers still get
   * its result, but a caller arriving after the eviction gets a refresh that starts after it, so it
   * cannot be handed the token that was just evicted (e.g. one an API rejected with 401). The
   * engine removes the cell from the schedule.
   */
  evicted(): void {
    this.info = undefined;
    this.resolved = undefined;
    this.refreshAt = -Infinity; // the hot path's test now fails; nothing else reads the windows without `info`
    this.usableUntil = -Infinity;
    this.inflight = undefined;
    this.inflightInBackground = false;
    this.generation++;
  }

  /** `closed`: the provider is unregistered (or the cell dropped): evicted for good. */
  closed(): void {
    this.evicted();
  }

  /**
   * `rejectedByApi`: an API answered 401 to `rejectedToken`. The first 401 for a token the API has
   * accepted, or that came from an ordinary refresh, renews at once (a revocation). Renewed tokens
   * that the API rejects before ever accepting one, two in a row, mean the API rejects fresh tokens
   * (revoked client, missing permission, clock skew on its side): renewals then back off like failed
   * refreshes, and callers keep the cached token meanwhile. `episodeStarted`: this 401
   * began such an episode (the caller warns once).
   */
  rejectedByApi(
    rejectedToken: string,
    now: number,
    random: () => number,
  ): { renewal: UnauthorizedRenewal; episodeStarted: boolean } {
    // Someone renewed (or evicted) already: a burst of 401s for one token costs one renewal.
    if (this.info?.token !== rejectedToken) return { renewal: 'use-current', episodeStarted: false };
    let episodeStarted = false;
    if (rejectedToken === this.renewedToken) {
      const incidents = this.written;
      // Counted once, however many requests carried it.
      // One such token may have been revoked between its renewal and its first use; two in a row
      // mean the API rejects fresh tokens: only then do renewals back off.
      if (incidents.countedRejection !== rejectedToken) {
        incidents.countedRejection = rejectedToken;
        incidents.rejectedRenewals++;
        if (incidents.rejectedRenewals >= REJECTED_RENEWALS_BEFORE_BACKOFF) {
          const backoffs = incidents.rejectedRenewals - REJECTED_RENEWALS_BEFORE_BACKOFF + 1;
          incidents.nextRenewalAt = now + retryDelayMs(backoffs, random);
          episodeStarted = backoffs === 1;
        }
      }
    } else if (this.incidents !== undefined) {
      // A token from an ordinary refresh, or one the API accepted: renew at once, whatever came before.
      this.incidents.rejectedRenewals = 0;
      this.incidents.nextRenewalAt = 0;
    }
    return { renewal: now < this.nextRenewalAt ? 'hold' : 'renew', episodeStarted };
  }

  /** A renewal after a 401 brought `token`: until the API accepts it, its rejection is not a revocation. */
  renewedAfterRejection(token: string): void {
    this.written.renewedToken = token;
  }

  /** A request was retried once after a 401 with this cell's token. */
  retriedAfterRejection(): void {
    this.written.unauthorizedRetries++;
  }

  /**
   * `acceptedByApi`: an API answered a request carrying `token` with something else than 401. A
   * renewed token the API accepted is an ordinary one from now on: its later rejection is a
   * revocation, and the 401 backoff episode (if any) is over.
   */
  acceptedByApi(token: string): void {
    const incidents = this.incidents;
    if (incidents === undefined || incidents.renewedToken !== token) return;
    incidents.renewedToken = undefined;
    incidents.countedRejection = undefined;
    incidents.rejectedRenewals = 0;
    incidents.nextRenewalAt = 0;
  }

  /** A variant with a valid token had to be dropped; true the first time (it is logged once). */
  variantsOverflowedOnce(): boolean {
    if (this.variantsOverflowed) return false;
    this.written.variantsOverflowed = true;
    return true;
  }

  // ── reads of the rare state ─────────────────────────────────────────────────────────────────

  private get written(): TokenCacheEntryIncidents {
    return (this.incidents ??= new TokenCacheEntryIncidents());
  }
  private get rare(): Readonly<TokenCacheEntryIncidents> {
    return this.incidents ?? NO_INCIDENTS;
  }

  /** The one refresh waiting for `running` to finish; it takes the generation current when it starts. */
  get queued(): Promise<TokenInfo> | undefined {
    return this.rare.queued;
  }
  /** No refresh before this instant (backoff after a failure). */
  get nextAttemptAt(): number {
    return this.rare.nextAttemptAt;
  }
  get consecutiveFailures(): number {
    return this.rare.consecutiveFailures;
  }
  get lastError(): TokenError | undefined {
    return this.rare.lastError;
  }
  /** The "no valid token" error was logged for the current failure episode. */
  get expiryReported(): boolean {
    return this.rare.expiryReported;
  }
  get failures(): number {
    return this.rare.failures;
  }
  get fallbacks(): number {
    return this.rare.fallbacks;
  }
  /** Requests retried once after an API answered 401 with this provider's token. */
  get unauthorizedRetries(): number {
    return this.rare.unauthorizedRetries;
  }
  /** The token a renewal after a 401 brought, until the API accepts it. */
  get renewedToken(): string | undefined {
    return this.rare.renewedToken;
  }
  /** The renewed token whose rejection is already counted in `rejectedRenewals`. */
  get countedRejection(): string | undefined {
    return this.rare.countedRejection;
  }
  /** Renewals after a 401 in a row whose new token was rejected before the API ever accepted it. */
  get rejectedRenewals(): number {
    return this.rare.rejectedRenewals;
  }
  /** No 401-driven renewal before this instant. */
  get nextRenewalAt(): number {
    return this.rare.nextRenewalAt;
  }
  /** A variant with a valid token had to be dropped; logged once. */
  get variantsOverflowed(): boolean {
    return this.rare.variantsOverflowed;
  }
}
