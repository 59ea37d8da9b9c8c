import type { Logger } from '@nestjs/common';
import type { Clock } from '../core/clock.js';
import type { TokenStore } from '../core/token-store.interface.js';
import { TokenAcquisitionError, TokenRequestError } from '../core/token.errors.js';
import type { TokenEventMap, TokenEvents } from '../core/token.events.js';
import type { TokenCacheEntry, TokenSource } from './token-cache-entry.js';
import type { TokenInfo } from '../core/token-info.js';
import {
  admissionProblem,
  admissionRulesOf,
  admitToken,
  type AdmissionRules,
} from '../core/token-admission.js';
import { planRefreshWindows } from './token-refresh.policy.js';

const noop = () => {};

export interface TokenRefresherDeps {
  clock: Clock;
  store: TokenStore;
  random: () => number;
  logger: Logger;
  events: TokenEvents;
  /** Called when a refresh of `entry` ends (stored, failed or let go): the schedule holds it again. */
  onSettled: (entry: TokenCacheEntry) => void;
  /** Longest a strategy's `generate()` may take. */
  refreshTimeoutMs: number;
}

/**
 * Runs refreshes: one at a time per entry, shared by every caller; stores the result with its
 * refresh windows; counts, logs and announces successes, failures and fallbacks. Knows nothing of
 * who asked or why: `TokenService` decides when to call it.
 */
export class TokenRefresher {
  constructor(private readonly deps: TokenRefresherDeps) {}

  /** Every `store.obtain` running, for shutdown. */
  readonly running = new Set<Promise<unknown>>();

  /** Starts a refresh behind the callers unless one runs or the backoff after a failure has not passed. */
  inBackground(entry: TokenCacheEntry, now: number): Promise<TokenInfo> | undefined {
    if (entry.inflight !== undefined) return entry.inflight;
    if (now < entry.nextAttemptAt) return undefined;
    return this.start(entry, true);
  }

  /**
   * The single refresh of an entry; callers that arrive while it runs get the same promise. When a
   * refresh let go by an eviction still runs, one refresh queues behind it and every later caller
   * (whatever else is evicted meanwhile) shares that one: at most one running and one queued per
   * provider, and the queued one's timeout starts when it does. `replacing` is the token a forced
   * refresh must not take back from the shared store.
   */
  start(entry: TokenCacheEntry, background: boolean, replacing?: string): Promise<TokenInfo> {
    if (entry.inflight !== undefined) return entry.inflight;
    let pending = entry.queued;
    if (pending === undefined) {
      const running = entry.running;
      pending =
        running === undefined
          ? this.run(entry, background, replacing)
          : running.then(noop, noop).then(() => {
              entry.queuedRefreshBegan();
              return this.run(entry, background, replacing);
            });
      entry.refreshStarted(pending, background, running !== undefined);
      const shared = pending;
      const settle = () => {
        entry.refreshSettled(shared);
        this.deps.onSettled(entry);
      };
      shared.then(settle, settle); // before any caller's own reaction: they find the entry settled
      return pending;
    }
    entry.refreshStarted(pending, background, false);
    return pending;
  }

  /** One `store.obtain` and what follows it; the generation is the one current when it starts. */
  private run(entry: TokenCacheEntry, background: boolean, replacing?: string): Promise<TokenInfo> {
    const { clock, store } = this.deps;
    const generation = entry.generation;
    const startedAt = clock.now();
    // Normalised before a shared store sees it, and bounded: a strategy that never answers must not
    // hold its callers, the sweep or shutdown forever.
    // `previous`: the shared entry being replaced, whose refresh token is the fleet's newest.
    // A shared entry the gate refuses is neither served nor handed to the strategy as `previous`.
    let issued = false;
    const generate = async (previous?: TokenInfo) => {
      issued = true;
      const admitted = previous && this.admitsShared(entry, previous) ? previous : undefined;
      const context = admitted && { previous: admitted };
      const raw = await withTimeout(entry.strategy.generate(context), this.deps.refreshTimeoutMs);
      return admitToken(raw, rulesOf(entry), clock.now(), 'strategy');
    };
    const isUsable = (info: TokenInfo) =>
      info.token !== replacing && this.admitsShared(entry, info) && this.isFreshForFleet(entry, info);
    // Callers wait on this refresh while holding a valid token: the store serves it back rather than
    // wait on another replica's lease. (A background refresh has nobody waiting: it waits for the peer.)
    const held =
      !background && replacing === undefined && startedAt < entry.usableUntil ? entry.info : undefined;
    const obtained = Promise.resolve().then(() =>
      store.obtain(entry.strategy.cacheKey, generate, isUsable, held),
    );
    entry.obtainBegan(obtained);
    this.running.add(obtained);
    const release = () => {
      this.running.delete(obtained);
      entry.obtainEnded(obtained);
    };
    obtained.then(release, release);
    return obtained
      .then((raw) =>
        this.accept(
          entry,
          raw,
          generation,
          startedAt,
          background,
          raw === held ? 'held' : issued ? 'issued' : 'shared',
        ),
      )
      .catch((error: unknown) => {
        throw generation === entry.generation
          ? this.recordFailure(entry, error)
          : error instanceof TokenAcquisitionError
            ? error
            : new TokenAcquisitionError(entry.name, error);
      });
  }

  /** After a failed refresh: the still-valid cached token, or the error for callers left without one. */
  fallbackOrThrow(entry: TokenCacheEntry, error: unknown): TokenInfo {
    const info = entry.info;
    if (info !== undefined && this.deps.clock.now() < entry.usableUntil)
      return this.serveFallback(entry, info);
    throw this.noValidToken(entry, error);
  }

  serveFallback(entry: TokenCacheEntry, info: TokenInfo): TokenInfo {
    entry.fallbackServed();
    this.emit('fallback-served', { provider: entry.name, expiresAt: info.expiresAt });
    return info;
  }

  /** Every caller left without a token gets the event; the log says it once per failure episode. */
  noValidToken(entry: TokenCacheEntry, cause: unknown): TokenAcquisitionError {
    const error =
      cause instanceof TokenAcquisitionError ? cause : new TokenAcquisitionError(entry.name, cause);
    if (entry.noValidTokenReported()) {
      this.deps.logger.error(`${error.message}; no valid token left, callers fail until a refresh succeeds`);
    }
    this.emit('expired', { provider: entry.name, error });
    return error;
  }

  private accept(
    entry: TokenCacheEntry,
    raw: unknown,
    generation: number,
    startedAt: number,
    background: boolean,
    source: TokenSource,
  ): TokenInfo {
    const { clock, random, logger } = this.deps;
    const now = clock.now();
    const info = admitToken(raw, rulesOf(entry), now, 'strategy');
    // Evicted while it ran: its callers get the token, but it is not stored, counted or announced.
    if (generation !== entry.generation) return info;
    let windows = planRefreshWindows(info.expiresAt, info.issuedAt, entry.safetyMarginMs, random);
    // A token that arrives already due (an issuer handing back an old token) is planned from now,
    // so it is used for half of what is left instead of triggering a refresh on every call.
    if (windows.refreshAt <= now)
      windows = planRefreshWindows(info.expiresAt, now, entry.safetyMarginMs, random);
    // The store handed back the token this replica already holds (another replica holds the lease):
    // replanned from now, but no new token, so nothing is counted, logged or announced.
    const failuresBefore =
      source === 'shared'
        ? entry.sharedByReplica(info, windows, now, startedAt)
        : entry.refreshed(info, windows, now, startedAt, source);
    if (source === 'held') return info;
    logger.log(
      `token provider "${entry.name}": new token, expires in ${Math.round((info.expiresAt - now) / 1000)} s` +
        (background ? ' (background refresh)' : '') +
        (failuresBefore > 0 ? `; recovered after ${failuresBefore} failed attempts` : ''),
    );
    this.emit('refreshed', {
      provider: entry.name,
      expiresAt: info.expiresAt,
      durationMs: now - startedAt,
      background,
    });
    return info;
  }

  private recordFailure(entry: TokenCacheEntry, error: unknown): TokenAcquisitionError {
    const failure =
      error instanceof TokenAcquisitionError ? error : new TokenAcquisitionError(entry.name, error);
    const now = this.deps.clock.now();
    const serving = entry.info !== undefined && now < entry.usableUntil;
    const retryInMs = entry.failed(failure, now, this.deps.random, requestedDelayMsOf(error));
    const line = `${failure.message} (failure ${entry.consecutiveFailures}); retry in ${Math.round(retryInMs)} ms; `;
    // One line per failure: a WARN while the cached token still serves, an ERROR when callers fail
    // (which also stands for the "no valid token" line of this episode).
    if (serving) this.deps.logger.warn(`${line}serving the cached token meanwhile`);
    else {
      entry.noValidTokenReported();
      this.deps.logger.error(`${line}no valid token cached, callers fail until a refresh succeeds`);
    }
    this.emit('refresh-failed', {
      provider: entry.name,
      error: failure,
      consecutiveFailures: entry.consecutiveFailures,
      retryInMs,
    });
    return failure;
  }

  /** A shared entry the gate refuses is logged and treated as missing: this replica asks for a token. */
  private admitsShared(entry: TokenCacheEntry, info: TokenInfo): boolean {
    const problem = admissionProblem(info, rulesOf(entry), this.deps.clock.now());
    if (problem === undefined) return true;
    this.deps.logger.warn(`token provider "${entry.name}": ${problem}; ignored, asking for a new token`);
    return false;
  }

  /** A token another replica stored is taken as is while it is fresh; otherwise this one refreshes. */
  private isFreshForFleet(entry: TokenCacheEntry, info: TokenInfo): boolean {
    const windows = planRefreshWindows(info.expiresAt, info.issuedAt, entry.safetyMarginMs, () => 0);
    return this.deps.clock.now() < windows.refreshAt;
  }

  /** A throwing listener is logged; it never breaks a refresh or a caller. */
  private emit<E extends keyof TokenEventMap>(event: E, ...payload: TokenEventMap[E]): void {
    try {
      (this.deps.events.emit as (event: E, ...payload: TokenEventMap[E]) => boolean)(event, ...payload);
    } catch (error) {
      this.deps.logger.error(`"${String(event)}" listener threw: ${(error as Error).message}`);
    }
  }
}

/** What the gate checks a provider's tokens against. */
function rulesOf(entry: TokenCacheEntry): AdmissionRules {
  return admissionRulesOf(entry.name, entry.strategy);
}

/** The promise, or a `TokenRequestError` once `timeoutMs` has passed; the timer never keeps the process alive. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new TokenRequestError(`the strategy did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The `Retry-After` a token endpoint sent with the failure, if any (carried on the error or its cause). */
function requestedDelayMsOf(error: unknown): number | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const value = (cause as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    cause = cause.cause;
  }
  return undefined;
}
