import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { systemClock, type Clock } from './clock.js';
import { providerOptionsSchema, type ProviderOptions } from './config/provider-options.schema.js';
import { MemoryTokenStore } from './stores/memory-token.store.js';
import type { TokenStore } from './stores/token-store.interface.js';
import { TOKEN_DEFAULTS } from './token.constants.js';
import { InvalidTokenOptionsError, TokenProviderNotFoundError } from './token.errors.js';
import { TokenEvents } from './token.events.js';
import { TokenCacheEntry } from './refresh/token-cache-entry.js';
import { FreshnessTimer } from './refresh/token-freshness.timer.js';
import { ClockSample } from './refresh/token-clock.sample.js';
import { TokenRefreshSchedule } from './refresh/token-refresh.schedule.js';
import {
  decideUnauthorizedRenewal,
  nextInstantOf,
  refreshStateOf,
  sweepShouldRefresh,
} from './refresh/token-refresh.state.js';
import type { TokenInfo } from './token-info.js';
import { TokenRefresher } from './refresh/token-refresher.js';
import { requestParametersOf } from './token-request-parameters.js';
import { variantOf } from './refresh/token-variants.js';
import { collectTokenStats, type TokenStats } from './refresh/token-stats.js';
import {
  isTokenStrategy,
  type TokenRequestParameters,
  type TokenStrategy,
} from './token-strategy.interface.js';
import { noteSenderConstraint } from './http/sender-constraints.js';
import { describeZodIssue } from './config/validation.js';

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

/** @publicApi */
export interface InvalidateOptions {
  /** Evict only if the cache still holds this token, e.g. the one an API just rejected with 401. */
  onlyIfToken?: string;
}

/** The options of every provider registered without any. */
const NO_PROVIDER_OPTIONS: Readonly<ProviderOptions> = Object.freeze({});

/** A cache hit reads the clock once in this many calls (a power of two), whatever the timer does. */
const FRESHNESS_CHECK_INTERVAL = 128;
const FRESHNESS_CHECK_MASK = FRESHNESS_CHECK_INTERVAL - 1;

/**
 * Caches tokens per provider and refreshes them: at most one refresh in flight per provider, shared
 * by every caller; tokens refreshed in the background before they enter their safety margin.
 *
 * @publicApi
 * @example
 * const { token } = await tokenService.getToken('kling');
 * const header = await tokenService.getTokenString('kling'); // "Bearer eyJ…"
 * const graph = await tokenService.getToken('graph', { scope: ['Mail.Read'] });
 */
@Injectable()
export class TokenService implements OnApplicationShutdown {
  /** Refreshes, failures, fallbacks and expiries, for listeners. */
  readonly events = new TokenEvents();
  private readonly entries = new Map<string, TokenCacheEntry>();
  private readonly logger = new Logger('TokenService');
  private readonly clock: Clock;
  private readonly store: TokenStore;
  private readonly safetyMarginMs: number;
  private readonly maxVariantsPerProvider: number;
  private readonly random: () => number;
  private readonly shutdownTimeoutMs: number;
  /** The clock as the hot path reads it: once per turn of the event loop on the system clock. */
  private readonly sample: ClockSample;
  /** Cached entries by their next instant of interest; the timer and the sweep take the due ones. */
  private readonly schedule = new TokenRefreshSchedule<TokenCacheEntry>();
  private readonly freshness: FreshnessTimer;
  private readonly refresher: TokenRefresher;
  private shutdown: Promise<void> | undefined = undefined;
  /** When the first shutdown hook began: the budget runs from there. */
  private shutdownStartedAt: number | undefined = undefined;

  constructor(@Optional() @Inject(TOKEN_SERVICE_SETTINGS) settings: TokenServiceSettings = {}) {
    this.clock = settings.clock ?? systemClock;
    this.store = settings.store ?? new MemoryTokenStore();
    this.safetyMarginMs = settings.safetyMarginMs ?? TOKEN_DEFAULTS.safetyMarginMs;
    this.maxVariantsPerProvider = settings.maxVariantsPerProvider ?? TOKEN_DEFAULTS.maxVariantsPerProvider;
    this.random = settings.random ?? Math.random;
    this.shutdownTimeoutMs = settings.shutdownTimeoutMs ?? TOKEN_DEFAULTS.shutdownTimeoutMs;
    this.sample = new ClockSample(this.clock);
    this.freshness = new FreshnessTimer(this.clock, this.schedule, this.sample);
    this.refresher = new TokenRefresher({
      clock: this.clock,
      store: this.store,
      random: this.random,
      logger: this.logger,
      events: this.events,
      onSettled: (entry) => this.reschedule(entry),
      refreshTimeoutMs: settings.refreshTimeoutMs ?? TOKEN_DEFAULTS.refreshTimeoutMs,
    });
    this.store.onInvalidate((key) => this.evictByCacheKey(key));
  }

  /**
   * A valid token for the provider. A cache hit is a map lookup and a comparison with the clock as
   * read once in this turn of the event loop (state `fresh`); otherwise callers share one refresh.
   * Rejects with `TokenAcquisitionError` when no valid token can be had.
   */
  getToken(name: string, options?: GetTokenOptions): Promise<TokenInfo> {
    const entry = this.entries.get(name);
    if (entry !== undefined && options === undefined && this.sample.now < entry.refreshAt) {
      // A long chain of microtasks is one turn: every FRESHNESS_CHECK_INTERVAL hits the clock is
      // read again, so a token's refresh time is seen even if the turn never ends.
      if ((++entry.hits & FRESHNESS_CHECK_MASK) !== 0 || this.sample.read() < entry.refreshAt) {
        return entry.resolved!;
      }
      entry.hits--;
    }
    return this.acquire(name, entry, options);
  }

  /** Tokens of several providers at once, fetched in parallel. */
  async getTokens(names: readonly string[]): Promise<Record<string, TokenInfo>> {
    const tokens = await Promise.all(names.map((name) => this.getToken(name)));
    return Object.fromEntries(names.map((name, index) => [name, tokens[index]]));
  }

  /** The `Authorization` header value: `"Bearer eyJ…"`. */
  async getTokenString(name: string, options?: GetTokenOptions): Promise<string> {
    return (await this.getToken(name, options)).authorizationHeader;
  }

  /** `{ Authorization: "Bearer eyJ…" }`, to spread into request headers. */
  async getAuthorizationHeader(name: string, options?: GetTokenOptions): Promise<{ Authorization: string }> {
    return { Authorization: await this.getTokenString(name, options) };
  }

  /** Gets a new token now, whatever the cache holds. */
  refreshToken(name: string, options?: TokenRequestParameters): Promise<TokenInfo> {
    return this.getToken(name, { ...options, forceRefresh: true });
  }

  /**
   * Drops the provider's cached tokens (its variants too) here and, with a shared store, on every
   * replica. With `onlyIfToken`, drops only the token that is still that one, and resolves to false
   * when none is (someone already replaced it).
   */
  async invalidate(name: string, options?: InvalidateOptions): Promise<boolean> {
    const family = [...this.entryOf(name).withVariants()];
    const onlyIfToken = options?.onlyIfToken;
    const doomed =
      onlyIfToken === undefined ? family : family.filter((entry) => entry.info?.token === onlyIfToken);
    if (doomed.length === 0) return false;
    doomed.forEach((entry) => this.evict(entry));
    await Promise.all(doomed.map((entry) => this.invalidateShared(entry.strategy.cacheKey, onlyIfToken)));
    return true;
  }

  /** Drops every cached token. */
  async clear(): Promise<void> {
    const entries = [...this.allEntries()];
    entries.forEach((entry) => this.evict(entry));
    await Promise.all(entries.map((entry) => this.invalidateShared(entry.strategy.cacheKey)));
  }

  /** True when the provider has no cached token or it has expired. */
  isTokenExpired(name: string): boolean {
    const info = this.entryOf(name).info;
    return info === undefined || info.isExpiredAt(this.clock.now());
  }

  /** The cached token, if any, without fetching. */
  getTokenInfo(name: string): TokenInfo | undefined {
    return this.entryOf(name).info;
  }

  /**
   * Adds a provider at run time, e.g. one per tenant.
   *
   * @example
   * tokenService.register(`tenant:${id}`, new OAuth2Strategy({ ... }), { safetyMarginMs: 60_000 });
   */
  register(name: string, strategy: TokenStrategy, options: ProviderOptions = {}): void {
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
    const parsed = providerOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const { field, message } = describeZodIssue(parsed.error.issues[0]);
      throw new InvalidTokenOptionsError(`token provider "${name}": ${message}`, name, field);
    }
    const margin = parsed.data.safetyMarginMs ?? this.safetyMarginMs;
    // Providers registered without options (one per tenant, say) share one object instead of one each.
    const kept = Object.keys(parsed.data).length === 0 ? NO_PROVIDER_OPTIONS : parsed.data;
    this.entries.set(name, new TokenCacheEntry(name, strategy, kept, margin));
    noteSenderConstraint(this, name, strategy);
  }

  /** Removes a provider registered at run time; false when there was none. */
  unregister(name: string): boolean {
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    for (const member of entry.withVariants()) this.evict(member);
    noteSenderConstraint(this, name, undefined);
    void this.closeStrategy(entry.strategy);
    return this.entries.delete(name);
  }

  hasProvider(name: string): boolean {
    return this.entries.has(name);
  }

  providerNames(): string[] {
    return [...this.entries.keys()];
  }

  /** The options a provider was registered with (origins, margin…), for the HTTP integration. */
  getProviderOptions(name: string): Readonly<ProviderOptions> {
    return this.entryOf(name).options;
  }

  /** Counts a request the HTTP integration retried after a 401; shows in `getStats()`. */
  recordUnauthorizedRetry(name: string): void {
    this.entryOf(name).unauthorizedRetries++;
  }

  /**
   * The token to retry a request with after an API rejected `rejectedToken` with 401, counted as a
   * retry. The first 401 for the current token evicts it and gets a new one (one refresh, however
   * many requests were rejected). While the API rejects the renewed tokens too, renewals back off as
   * failed refreshes do (1 s doubling to 60 s, with jitter) and the cached token is returned meanwhile,
   * so requests get the API's 401 instead of costing a token request each; one warning says so.
   */
  async renewAfterUnauthorized(name: string, rejectedToken: string): Promise<TokenInfo> {
    const entry = this.entryOf(name);
    const { renewal, episodeStarted } = decideUnauthorizedRenewal(
      entry,
      rejectedToken,
      this.clock.now(),
      this.random,
    );
    if (episodeStarted) {
      this.logger.warn(
        `token provider "${name}": the API rejected a freshly renewed token with 401 too; renewals after ` +
          "401s now back off like failed refreshes, and requests get the API's 401 meanwhile",
      );
    }
    let info: TokenInfo;
    if (renewal === 'hold' && entry.info !== undefined) {
      info = entry.info;
    } else if (renewal === 'renew') {
      await this.invalidate(name, { onlyIfToken: rejectedToken });
      info = await this.getToken(name);
      entry.renewedToken = info.token;
    } else {
      info = await this.getToken(name);
    }
    entry.unauthorizedRetries++;
    return info;
  }

  /** Counters and per-provider state (variants listed as `name (scope=…)`). Holds no token value. */
  getStats(): TokenStats {
    return collectTokenStats(this.entries.values(), this.clock.now());
  }

  /**
   * Starts a background refresh of every token that would enter its safety margin within
   * `horizonMs` (the time until the next sweep) plus the provider's last refresh duration, so the
   * new token is there before anyone has to wait for it, but never before half its life. A failing
   * provider is retried once its backoff has passed, even when no call comes. Providers never
   * fetched are left alone. Only the entries the schedule holds as due within the horizon are
   * looked at. Returns the refreshes it started, and those already under way for due entries.
   */
  refreshDue(horizonMs: number): Promise<TokenInfo>[] {
    const now = this.clock.now();
    const started: Promise<TokenInfo>[] = [];
    for (const entry of this.schedule.take(now + horizonMs)) {
      // A refresh a caller started is waited for too; its end schedules the entry again.
      if (entry.inflight !== undefined) started.push(entry.inflight);
      else if (sweepShouldRefresh(entry, now, horizonMs)) started.push(this.refresher.start(entry, true));
      else this.reschedule(entry);
    }
    return started;
  }

  /**
   * Waits for the refreshes under way, at most `shutdownTimeoutMs` from the first call, whoever
   * calls (the scheduler's shutdown hook, then this service's): the budget is shared. What still
   * runs then is abandoned (its timers are unref'd, the process can exit) and logged once.
   */
  settleRefreshes(): Promise<void> {
    this.shutdownStartedAt ??= Date.now();
    return (this.shutdown ??= this.waitForRefreshes());
  }

  /** Lets refreshes in flight settle, then closes the store; the whole within `shutdownTimeoutMs`. */
  async onApplicationShutdown(): Promise<void> {
    await this.settleRefreshes();
    const leftMs = Math.max(0, this.shutdownTimeoutMs - (Date.now() - this.shutdownStartedAt!));
    const closed = this.store.close().catch((error: unknown) => {
      this.logger.warn(`could not close the token store: ${(error as Error)?.message ?? String(error)}`);
    });
    const strategies = [...this.entries.values()].map((entry) => this.closeStrategy(entry.strategy));
    await raceDeadline(Promise.all([closed, ...strategies]), leftMs);
  }

  private async closeStrategy(strategy: TokenStrategy): Promise<void> {
    try {
      await strategy.close?.();
    } catch (error) {
      this.logger.warn(`could not close a token strategy: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  private async waitForRefreshes(): Promise<void> {
    this.freshness.stop();
    const running = [...this.refresher.running];
    if (running.length === 0) return;
    const settled = await raceDeadline(Promise.allSettled(running), this.shutdownTimeoutMs);
    if (!settled) {
      this.logger.warn(
        `shutdown: ${running.length} token refresh(es) still running after ${this.shutdownTimeoutMs} ms ` +
          'abandoned (a strategy that does not answer)',
      );
    }
  }

  /**
   * The slow path. Three states: fresh (serve), should refresh (serve, refresh behind the caller),
   * must refresh (no valid token, or one inside its margin: callers wait for one shared refresh).
   */
  private acquire(
    name: string,
    base: TokenCacheEntry | undefined,
    options?: GetTokenOptions,
  ): Promise<TokenInfo> {
    if (base === undefined) return Promise.reject(new TokenProviderNotFoundError(name));
    let entry = base;
    // A bad per-call value is a rejection like any other failure, never a synchronous throw.
    try {
      const parameters = requestParametersOf(options, name);
      if (parameters !== undefined) {
        entry = variantOf(base, parameters, {
          maxVariants: this.maxVariantsPerProvider,
          now: this.clock.now(),
          logger: this.logger,
          evict: (variant) => this.evict(variant),
        });
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const now = this.sample.read();
    const info = entry.info;
    if (options?.forceRefresh === true) {
      entry.misses++;
      // A forced refresh must not take back, from a shared store, the very token it is replacing.
      return this.refresher.start(entry, false, info?.token);
    }
    switch (refreshStateOf(entry, now)) {
      case 'fresh':
        entry.hits++;
        return entry.resolved!;
      case 'should-refresh':
        entry.hits++;
        this.refresher.inBackground(entry, now);
        return entry.resolved!;
      case 'cooling-down':
        if (info !== undefined && now < info.expiresAt) {
          // The endpoint fails: serve the valid token, and retry behind the caller once the backoff allows.
          this.refresher.inBackground(entry, now);
          return Promise.resolve(this.refresher.serveFallback(entry, info));
        }
        entry.misses++;
        return Promise.reject(this.refresher.noValidToken(entry, entry.lastError));
      case 'must-refresh':
        entry.misses++;
        return this.refresher
          .start(entry, false)
          .catch((error: unknown) => this.refresher.fallbackOrThrow(entry, error));
    }
  }

  /** Forgets an entry's token and takes it out of the schedule. */
  private evict(entry: TokenCacheEntry): void {
    entry.evict();
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
      await this.store.invalidate(cacheKey, onlyIfToken);
    } catch (error) {
      this.logger.warn(`could not invalidate the shared token: ${(error as Error).message}`);
    }
  }

  private entryOf(name: string): TokenCacheEntry {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new TokenProviderNotFoundError(name);
    return entry;
  }
}

/** True when `promise` settled within `ms`; false when the deadline came first. The timer never holds the process. */
async function raceDeadline(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
