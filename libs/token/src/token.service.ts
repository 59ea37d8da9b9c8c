import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { systemClock, type Clock } from './clock.js';
import { providerOptionsSchema, type ProviderOptions } from './provider-options.schema.js';
import { MemoryTokenStore } from './stores/memory-token.store.js';
import type { TokenStore } from './stores/token-store.interface.js';
import { TOKEN_DEFAULTS } from './token.constants.js';
import {
  InvalidTokenOptionsError,
  TokenAcquisitionError,
  TokenProviderNotFoundError,
  TokenResponseError,
} from './token.errors.js';
import { TokenEvents, type TokenEventMap } from './token.events.js';
import { TokenCacheEntry } from './token-cache-entry.js';
import { TokenInfo } from './token-info.js';
import { planRefreshWindows, retryDelayMs } from './token-refresh.policy.js';
import type { ProviderTokenStats, TokenStats } from './token-stats.js';
import { isTokenStrategy, type TokenStrategy } from './token-strategy.interface.js';
import { describeZodIssue } from './validation.js';

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
}

/** Injection token of {@link TokenServiceSettings}. */
export const TOKEN_SERVICE_SETTINGS = Symbol('TOKEN_SERVICE_SETTINGS');

/** @publicApi */
export interface GetTokenOptions {
  /** Skip the cache and wait for a new token (joins a refresh already under way). */
  forceRefresh?: boolean;
}

/** @publicApi */
export interface InvalidateOptions {
  /** Evict only if the cache still holds this token, e.g. the one an API just rejected with 401. */
  onlyIfToken?: string;
}

const noop = () => {};

/**
 * Caches tokens per provider and refreshes them: at most one refresh in flight per provider, shared
 * by every caller; tokens refreshed in the background before they enter their safety margin.
 *
 * @publicApi
 * @example
 * const { token } = await tokenService.getToken('kling');
 * const header = await tokenService.getTokenString('kling'); // "Bearer eyJ…"
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
  private readonly random: () => number;

  constructor(@Optional() @Inject(TOKEN_SERVICE_SETTINGS) settings: TokenServiceSettings = {}) {
    this.clock = settings.clock ?? systemClock;
    this.store = settings.store ?? new MemoryTokenStore();
    this.safetyMarginMs = settings.safetyMarginMs ?? TOKEN_DEFAULTS.safetyMarginMs;
    this.random = settings.random ?? Math.random;
    this.store.onInvalidate((key) => this.evictByCacheKey(key));
  }

  /**
   * A valid token for the provider. A cache hit is a map lookup and a clock read; otherwise callers
   * share one refresh. Rejects with `TokenAcquisitionError` when no valid token can be had.
   */
  getToken(name: string, options?: GetTokenOptions): Promise<TokenInfo> {
    const entry = this.entries.get(name);
    if (entry !== undefined && options === undefined && this.clock.now() < entry.refreshAt) {
      entry.hits++;
      return entry.resolved!;
    }
    return this.acquire(name, entry, options?.forceRefresh === true);
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
  async getAuthorizationHeader(name: string): Promise<{ Authorization: string }> {
    return { Authorization: await this.getTokenString(name) };
  }

  /** Gets a new token now, whatever the cache holds. */
  refreshToken(name: string): Promise<TokenInfo> {
    return this.getToken(name, { forceRefresh: true });
  }

  /**
   * Drops the provider's cached token here and, with a shared store, on every replica.
   * Resolves to false when `onlyIfToken` no longer matches (someone already replaced it).
   */
  async invalidate(name: string, options?: InvalidateOptions): Promise<boolean> {
    const entry = this.entryOf(name);
    if (options?.onlyIfToken !== undefined && entry.info?.token !== options.onlyIfToken) return false;
    entry.evict();
    await this.invalidateShared(entry.strategy.cacheKey);
    return true;
  }

  /** Drops every cached token. */
  async clear(): Promise<void> {
    const entries = [...this.entries.values()];
    entries.forEach((entry) => entry.evict());
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
      const issue = parsed.error.issues[0];
      const { field, message } = describeZodIssue(issue);
      throw new InvalidTokenOptionsError(`token provider "${name}": ${message}`, name, field);
    }
    const margin = parsed.data.safetyMarginMs ?? this.safetyMarginMs;
    this.entries.set(name, new TokenCacheEntry(name, strategy, parsed.data, margin));
  }

  /** Removes a provider registered at run time; false when there was none. */
  unregister(name: string): boolean {
    const entry = this.entries.get(name);
    entry?.evict();
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

  /** Counters and per-provider state. Holds no token value. */
  getStats(): TokenStats {
    const now = this.clock.now();
    const stats: TokenStats = {
      totalCached: 0,
      hits: 0,
      misses: 0,
      hitRate: 0,
      refreshes: 0,
      failures: 0,
      fallbacks: 0,
      unauthorizedRetries: 0,
      tokens: {},
    };
    for (const entry of this.entries.values()) {
      const info = entry.info;
      if (info !== undefined) stats.totalCached++;
      stats.hits += entry.hits;
      stats.misses += entry.misses;
      stats.refreshes += entry.refreshes;
      stats.failures += entry.failures;
      stats.fallbacks += entry.fallbacks;
      stats.unauthorizedRetries += entry.unauthorizedRetries;
      stats.tokens[entry.name] = {
        cached: info !== undefined,
        expiresIn: info === undefined ? null : info.expiresAt - now,
        isExpired: info === undefined || info.isExpiredAt(now),
        isNearExpiry: info === undefined || now > entry.mustRefreshAt,
        lastRefreshAt: entry.lastRefreshAt ?? null,
        lastRefreshDurationMs: entry.lastRefreshDurationMs ?? null,
        consecutiveFailures: entry.consecutiveFailures,
        degraded: entry.consecutiveFailures > 0,
        hits: entry.hits,
        misses: entry.misses,
        refreshes: entry.refreshes,
        failures: entry.failures,
        fallbacks: entry.fallbacks,
        unauthorizedRetries: entry.unauthorizedRetries,
      } satisfies ProviderTokenStats;
    }
    const calls = stats.hits + stats.misses;
    stats.hitRate = calls === 0 ? 0 : stats.hits / calls;
    return stats;
  }

  /**
   * Starts a background refresh of every token that would enter its safety margin within
   * `horizonMs` (the time until the next sweep) plus the provider's last refresh duration, so the
   * new token is there before anyone has to wait for it. A failing provider is retried once its
   * backoff has passed, even when no call comes. Providers never fetched are left alone.
   * Returns the refreshes under way (started now or already running).
   */
  refreshDue(horizonMs: number): Promise<TokenInfo>[] {
    const now = this.clock.now();
    const started: Promise<TokenInfo>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.info === undefined) continue;
      const dueBy = now + horizonMs + (entry.lastRefreshDurationMs ?? 0);
      if (now >= entry.refreshAt || dueBy > entry.mustRefreshAt) {
        const pending = this.refreshInBackground(entry, now);
        if (pending !== undefined) started.push(pending);
      }
    }
    return started;
  }

  async onApplicationShutdown(): Promise<void> {
    const inflight = [...this.entries.values()].map((entry) => entry.inflight).filter((p) => p !== undefined);
    await Promise.allSettled(inflight);
    await this.store.close();
  }

  private acquire(name: string, entry: TokenCacheEntry | undefined, force: boolean): Promise<TokenInfo> {
    if (entry === undefined) return Promise.reject(new TokenProviderNotFoundError(name));
    const now = this.clock.now();
    const info = entry.info;
    if (!force && info !== undefined && now < info.expiresAt) {
      // Should refresh: the token is still outside its margin; serve it and refresh behind the caller.
      if (now <= entry.mustRefreshAt) {
        entry.hits++;
        this.refreshInBackground(entry, now);
        return entry.resolved!;
      }
      // Inside the margin, but a background refresh began before this caller came: the endpoint is
      // slow or hanging, and waiting would only add its latency (up to its timeout) to a call that
      // already holds a valid token.
      if (entry.inflight !== undefined && entry.inflightInBackground && entry.consecutiveFailures === 0) {
        entry.hits++;
        return entry.resolved!;
      }
      // Inside the margin while the endpoint is known to fail: the same, and retry behind the caller.
      if (entry.consecutiveFailures > 0) {
        this.refreshInBackground(entry, now);
        return Promise.resolve(this.serveFallback(entry, info));
      }
    }
    // Must refresh: no valid token, or one inside its margin; every caller waits for the same refresh.
    entry.misses++;
    if (!force && entry.inflight === undefined && now < entry.nextAttemptAt) {
      // Cooling down after a failure: fail fast instead of calling a dead endpoint for every caller.
      return Promise.reject(this.noValidToken(entry, entry.lastError));
    }
    const pending = this.startRefresh(entry, false);
    return force ? pending : pending.catch((error: unknown) => this.fallbackOrThrow(entry, error));
  }

  private refreshInBackground(entry: TokenCacheEntry, now: number): Promise<TokenInfo> | undefined {
    if (entry.inflight !== undefined) return entry.inflight;
    if (now < entry.nextAttemptAt) return undefined;
    return this.startRefresh(entry, true);
  }

  /** The single refresh of a provider; callers that arrive while it runs get the same promise. */
  private startRefresh(entry: TokenCacheEntry, background: boolean): Promise<TokenInfo> {
    if (entry.inflight !== undefined) return entry.inflight;
    const generation = entry.generation;
    const startedAt = this.clock.now();
    const generate = () => entry.strategy.generate();
    const isUsable = (info: TokenInfo) => this.isFreshForFleet(entry, info);
    const pending: Promise<TokenInfo> = Promise.resolve()
      .then(() => this.store.obtain(entry.strategy.cacheKey, generate, isUsable))
      .then((raw) => this.accept(entry, raw, generation, startedAt, background))
      .catch((error: unknown) => {
        throw this.recordFailure(entry, error);
      })
      .finally(() => {
        if (entry.inflight === pending) entry.inflight = undefined;
      });
    entry.inflight = pending;
    entry.inflightInBackground = background;
    pending.catch(noop); // a background refresh has no caller to observe its failure
    return pending;
  }

  private accept(
    entry: TokenCacheEntry,
    raw: unknown,
    generation: number,
    startedAt: number,
    background: boolean,
  ): TokenInfo {
    const now = this.clock.now();
    const info = this.normalize(entry, raw, now);
    if (generation === entry.generation) {
      let windows = planRefreshWindows(info.expiresAt, info.issuedAt, entry.safetyMarginMs, this.random);
      // A token that arrives already due (an issuer handing back an old token) is planned from now,
      // so it is used for half of what is left instead of triggering a refresh on every call.
      if (windows.refreshAt <= now) {
        windows = planRefreshWindows(info.expiresAt, now, entry.safetyMarginMs, this.random);
      }
      entry.info = info;
      entry.resolved = Promise.resolve(info);
      entry.refreshAt = windows.refreshAt;
      entry.mustRefreshAt = windows.mustRefreshAt;
    }
    const failuresBefore = entry.consecutiveFailures;
    entry.refreshes++;
    entry.consecutiveFailures = 0;
    entry.nextAttemptAt = 0;
    entry.lastError = undefined;
    entry.expiryReported = false;
    entry.lastRefreshAt = now;
    entry.lastRefreshDurationMs = now - startedAt;
    const expiresInSeconds = Math.round((info.expiresAt - now) / 1000);
    this.logger.log(
      `token provider "${entry.name}": new token, expires in ${expiresInSeconds} s` +
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

  /** Checks what a strategy returned; custom strategies may hand back plain objects. */
  private normalize(entry: TokenCacheEntry, raw: unknown, now: number): TokenInfo {
    const candidate = raw as Partial<TokenInfo> | null | undefined;
    if (typeof candidate?.token !== 'string' || candidate.token.length === 0) {
      throw new TokenResponseError('strategy returned no token');
    }
    if (typeof candidate.expiresAt !== 'number' || !Number.isFinite(candidate.expiresAt)) {
      throw new TokenResponseError('strategy returned a token without a valid "expiresAt"');
    }
    if (candidate.expiresAt <= now) throw new TokenResponseError('strategy returned an expired token');
    if (candidate instanceof TokenInfo && candidate.provider === entry.name) return candidate;
    const init = candidate instanceof TokenInfo ? candidate.toInit() : (candidate as TokenInfo);
    const issuedAt = typeof init.issuedAt === 'number' && Number.isFinite(init.issuedAt) ? init.issuedAt : now;
    return new TokenInfo({ ...init, issuedAt: Math.min(issuedAt, now), provider: entry.name });
  }

  private recordFailure(entry: TokenCacheEntry, error: unknown): TokenAcquisitionError {
    const failure = error instanceof TokenAcquisitionError ? error : new TokenAcquisitionError(entry.name, error);
    const now = this.clock.now();
    entry.failures++;
    entry.consecutiveFailures++;
    entry.lastError = failure;
    const retryInMs = retryDelayMs(entry.consecutiveFailures, this.random);
    entry.nextAttemptAt = now + retryInMs;
    const serving = entry.info !== undefined && !entry.info.isExpiredAt(now);
    this.logger.warn(
      `${failure.message} (failure ${entry.consecutiveFailures}); retry in ${Math.round(retryInMs)} ms; ` +
        (serving ? 'serving the cached token meanwhile' : 'no valid token cached'),
    );
    this.emit('refresh-failed', {
      provider: entry.name,
      error: failure,
      consecutiveFailures: entry.consecutiveFailures,
      retryInMs,
    });
    return failure;
  }

  private fallbackOrThrow(entry: TokenCacheEntry, error: unknown): TokenInfo {
    const info = entry.info;
    if (info !== undefined && !info.isExpiredAt(this.clock.now())) return this.serveFallback(entry, info);
    throw this.noValidToken(entry, error);
  }

  private serveFallback(entry: TokenCacheEntry, info: TokenInfo): TokenInfo {
    entry.fallbacks++;
    this.emit('fallback-served', { provider: entry.name, expiresAt: info.expiresAt });
    return info;
  }

  /** Every caller left without a token gets the event; the log says it once per failure episode. */
  private noValidToken(entry: TokenCacheEntry, cause: unknown): TokenAcquisitionError {
    const error = cause instanceof TokenAcquisitionError ? cause : new TokenAcquisitionError(entry.name, cause);
    if (!entry.expiryReported) {
      entry.expiryReported = true;
      this.logger.error(`${error.message}; no valid token left, callers fail until a refresh succeeds`);
    }
    this.emit('expired', { provider: entry.name, error });
    return error;
  }

  /** A token another replica stored is taken as is while it is fresh; otherwise this one refreshes. */
  private isFreshForFleet(entry: TokenCacheEntry, info: TokenInfo): boolean {
    const windows = planRefreshWindows(info.expiresAt, info.issuedAt, entry.safetyMarginMs, () => 0);
    return this.clock.now() < windows.refreshAt;
  }

  private evictByCacheKey(cacheKey: string): void {
    for (const entry of this.entries.values()) {
      if (entry.strategy.cacheKey === cacheKey) entry.evict();
    }
  }

  private async invalidateShared(cacheKey: string): Promise<void> {
    try {
      await this.store.invalidate(cacheKey);
    } catch (error) {
      this.logger.warn(`could not invalidate the shared token: ${(error as Error).message}`);
    }
  }

  private entryOf(name: string): TokenCacheEntry {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new TokenProviderNotFoundError(name);
    return entry;
  }

  /** A throwing listener is logged; it never breaks a refresh or a caller. */
  private emit<E extends keyof TokenEventMap>(event: E, ...payload: TokenEventMap[E]): void {
    try {
      (this.events.emit as (event: E, ...payload: TokenEventMap[E]) => boolean)(event, ...payload);
    } catch (error) {
      this.logger.error(`"${String(event)}" listener threw: ${(error as Error).message}`);
    }
  }
}
