import type { Logger } from '@nestjs/common';
import type { Clock } from '../core/clock.js';
import { parseProviderOptions, type ProviderOptions } from '../config/provider-options.schema.js';
import { validatedOr } from '../config/validation.js';
import type { TokenStore } from '../core/token-store.interface.js';
import {
  InvalidTokenOptionsError,
  TokenEndpointError,
  TokenProviderNotFoundError,
} from '../core/token.errors.js';
import type { TokenEvents } from '../core/token.events.js';
import type { TokenInfo } from '../core/token-info.js';
import { requestParametersOf } from '../core/token-request-parameters.js';
import type { GetTokenOptions } from '../core/token.service-settings.js';
import { isTokenStrategy, type TokenStrategy } from '../core/token-strategy.interface.js';
import { TokenCacheEntry } from './token-cache-entry.js';
import { ClockSample } from './token-clock.sample.js';
import { FreshnessTimer } from './token-freshness.timer.js';
import { TokenRefreshSchedule } from './token-refresh.schedule.js';
import { closeStrategy, RefreshShutdown } from './token-refresh.shutdown.js';
import { nextInstantOf, refreshStateOf, sweepShouldRefresh } from './token-refresh.state.js';
import { TokenRefresher } from './token-refresher.js';
import { variantOf } from './token-variants.js';

/** What the engine needs from `TokenService`, its settings resolved. */
export interface TokenRefreshEngineDeps {
  clock: Clock;
  store: TokenStore;
  random: () => number;
  logger: Logger;
  events: TokenEvents;
  /** Margin of providers that set none. */
  safetyMarginMs: number;
  refreshTimeoutMs: number;
  maxVariantsPerProvider: number;
  shutdownTimeoutMs: number;
}

/** The options of every provider registered without any. */
const NO_PROVIDER_OPTIONS: Readonly<ProviderOptions> = Object.freeze({});

/**
 * Everything behind `TokenService` but its cache hit: the providers' entries, the slow path of
 * `getToken` (the state machine's answer turned into serve, refresh behind the caller, wait for the
 * one shared refresh, or fail fast), per-call variants, eviction, the schedule with its timer and
 * sweep, and the wait for refreshes at shutdown. `TokenService` reads `entries` and `sample` itself
 * for the hit, and comes here for anything else.
 */
export class TokenRefreshEngine {
  readonly entries = new Map<string, TokenCacheEntry>();
  /** The clock as the hot path reads it: once per turn of the event loop on the system clock. */
  readonly sample: ClockSample;
  /** Cached entries by their next instant of interest; the timer and the sweep take the due ones. */
  private readonly schedule = new TokenRefreshSchedule<TokenCacheEntry>();
  private readonly freshness: FreshnessTimer;
  private readonly refresher: TokenRefresher;
  private readonly shutdown: RefreshShutdown;

  constructor(private readonly deps: TokenRefreshEngineDeps) {
    this.sample = new ClockSample(deps.clock);
    this.freshness = new FreshnessTimer(deps.clock, this.schedule, this.sample);
    this.refresher = new TokenRefresher({
      clock: deps.clock,
      store: deps.store,
      random: deps.random,
      logger: deps.logger,
      events: deps.events,
      onSettled: (entry) => this.reschedule(entry),
      refreshTimeoutMs: deps.refreshTimeoutMs,
    });
    this.shutdown = new RefreshShutdown({
      store: deps.store,
      logger: deps.logger,
      shutdownTimeoutMs: deps.shutdownTimeoutMs,
      running: this.refresher.running,
      stopTimer: () => this.freshness.stop(),
      strategies: () => [...this.entries.values()].map((entry) => entry.strategy),
    });
    deps.store.onInvalidate((key) => this.evictByCacheKey(key));
  }

  /** Validates a registration and adds the provider's entry. */
  add(name: string, strategy: TokenStrategy, options: ProviderOptions): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidTokenOptionsError('token provider name must be a non-empty string', undefined, 'name');
    }
    if (this.entries.has(name)) {
      throw new InvalidTokenOptionsError(`token provider "${name}" is already registered`, name, 'name');
    }
    if (!isTokenStrategy(strategy)) {
      throw new InvalidTokenOptionsError(
        `token provider "${name}": strategy must have a string "cacheKey" and a "generate()" method`,
        name,
        'strategy',
      );
    }
    // Parsed here only when given by hand: the module's configuration arrives validated.
    const checked = validatedOr(options, () => parseProviderOptions(name, options));
    const margin = checked.safetyMarginMs ?? this.deps.safetyMarginMs;
    // Providers registered without options (one per tenant, say) share one object instead of one each.
    const kept = Object.values(checked).every((value) => value === undefined) ? NO_PROVIDER_OPTIONS : checked;
    this.entries.set(name, new TokenCacheEntry(name, strategy, kept, margin));
  }

  /** Forgets the provider's tokens (its variants' too) and drops it; closes its strategy. */
  remove(name: string): boolean {
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    for (const member of entry.withVariants()) {
      member.closed();
      this.schedule.remove(member);
    }
    void closeStrategy(entry.strategy, this.deps.logger);
    return this.entries.delete(name);
  }

  entryOf(name: string): TokenCacheEntry {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new TokenProviderNotFoundError(name);
    return entry;
  }

  /**
   * The slow path. Three states: fresh (serve), should refresh (serve, refresh behind the caller),
   * must refresh (no valid token, or one inside its margin: callers wait for one shared refresh).
   */
  acquire(name: string, base: TokenCacheEntry | undefined, options?: GetTokenOptions): Promise<TokenInfo> {
    if (base === undefined) return Promise.reject(new TokenProviderNotFoundError(name));
    let entry = base;
    // A bad per-call value is a rejection like any other failure, never a synchronous throw.
    try {
      const parameters = requestParametersOf(options, name);
      if (parameters !== undefined) {
        entry = variantOf(base, parameters, {
          maxVariants: this.deps.maxVariantsPerProvider,
          now: this.deps.clock.now(),
          logger: this.deps.logger,
          evict: (variant) => this.evict(variant),
        });
        // A user's credential is used only when that user calls: never by the sweep.
        if (entry !== base && parameters.subjectToken !== undefined) entry.madeFromPerCallCredential();
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const now = this.sample.read();
    const info = entry.info;
    if (options?.forceRefresh === true) {
      entry.missed();
      // A forced refresh must not take back, from a shared store, the very token it is replacing.
      return this.watched(base, entry, this.refresher.start(entry, false, info?.token));
    }
    switch (refreshStateOf(entry, now)) {
      case 'fresh':
        entry.served();
        return entry.resolved!;
      case 'should-refresh':
        entry.served();
        this.watched(base, entry, this.refresher.inBackground(entry, now));
        return entry.resolved!;
      case 'cooling-down':
        if (info !== undefined && now < entry.usableUntil) {
          // The endpoint fails: serve the valid token, and retry behind the caller once the backoff allows.
          this.watched(base, entry, this.refresher.inBackground(entry, now));
          return Promise.resolve(this.refresher.serveFallback(entry, info));
        }
        entry.missed();
        return Promise.reject(this.refresher.noValidToken(entry, entry.lastError));
      case 'must-refresh':
        entry.missed();
        return this.watched(base, entry, this.refresher.start(entry, false))!.catch((error: unknown) =>
          this.refresher.fallbackOrThrow(entry, error),
        );
    }
  }

  /**
   * `refresh`, watched: a variant made from a per-call credential is dropped (not retried) once the
   * server refuses the credential (`invalid_grant`); its next caller starts afresh.
   */
  private watched<T extends Promise<TokenInfo> | undefined>(
    base: TokenCacheEntry,
    entry: TokenCacheEntry,
    refresh: T,
  ): T {
    if (refresh !== undefined && entry.onDemandOnly) {
      refresh.catch((error: unknown) => {
        if (isCredentialRefused(error)) this.dropVariant(base, entry);
      });
    }
    return refresh;
  }

  private dropVariant(base: TokenCacheEntry, variant: TokenCacheEntry): void {
    const variants = base.variants;
    if (variants === undefined) return;
    for (const [key, member] of variants) {
      if (member !== variant) continue;
      variants.delete(key);
      variant.closed();
      this.schedule.remove(variant);
      return;
    }
  }

  /** Evicts the family's tokens (only those still equal to `onlyIfToken`, when given), here and in the store. */
  async invalidate(name: string, onlyIfToken?: string): Promise<boolean> {
    const family = [...this.entryOf(name).withVariants()];
    const doomed =
      onlyIfToken === undefined ? family : family.filter((entry) => entry.info?.token === onlyIfToken);
    if (doomed.length === 0) return false;
    doomed.forEach((entry) => this.evict(entry));
    await Promise.all(doomed.map((entry) => this.invalidateShared(entry.strategy.cacheKey, onlyIfToken)));
    return true;
  }

  async clear(): Promise<void> {
    const entries = [...this.allEntries()];
    entries.forEach((entry) => this.evict(entry));
    await Promise.all(entries.map((entry) => this.invalidateShared(entry.strategy.cacheKey)));
  }

  /** The sweep: see `TokenService.refreshDue`. */
  refreshDue(horizonMs: number): Promise<TokenInfo>[] {
    const now = this.deps.clock.now();
    const started: Promise<TokenInfo>[] = [];
    for (const entry of this.schedule.take(now + horizonMs)) {
      // A refresh a caller started is waited for too; its end schedules the entry again.
      if (entry.inflight !== undefined) started.push(entry.inflight);
      else if (sweepShouldRefresh(entry, now, horizonMs)) started.push(this.refresher.start(entry, true));
      else this.reschedule(entry);
    }
    return started;
  }

  /** Waits for the refreshes under way within the shutdown budget, shared by every caller. */
  settleRefreshes(): Promise<void> {
    return this.shutdown.settle();
  }

  /** Lets refreshes in flight settle, then closes the store and the strategies; the whole within the budget. */
  close(): Promise<void> {
    return this.shutdown.close();
  }

  /** Forgets an entry's token and takes it out of the schedule. */
  private evict(entry: TokenCacheEntry): void {
    entry.evicted();
    this.schedule.remove(entry);
  }

  /** Holds the entry in the schedule for its next instant of interest, or drops it when it has none. */
  private reschedule(entry: TokenCacheEntry): void {
    const at = nextInstantOf(entry);
    if (at === undefined) {
      this.schedule.remove(entry);
      return;
    }
    this.schedule.arm(entry, at);
    this.freshness.onArmed(at);
  }

  private *allEntries(): IterableIterator<TokenCacheEntry> {
    for (const entry of this.entries.values()) yield* entry.withVariants();
  }

  private evictByCacheKey(cacheKey: string): void {
    for (const entry of this.allEntries()) {
      if (entry.strategy.cacheKey === cacheKey) this.evict(entry);
    }
  }

  private async invalidateShared(cacheKey: string, onlyIfToken?: string): Promise<void> {
    try {
      await this.deps.store.invalidate(cacheKey, onlyIfToken);
    } catch (error) {
      this.deps.logger.warn(`could not invalidate the shared token: ${(error as Error).message}`);
    }
  }
}

/** The server refused the grant itself (RFC 6749 §5.2 `invalid_grant`): for a subject token, it is gone. */
function isCredentialRefused(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    if (cause instanceof TokenEndpointError && cause.error === 'invalid_grant') return true;
    cause = cause.cause;
  }
  return false;
}
