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
import type { TokenInfo } from './token-info.js';
import { TokenRefresher } from './refresh/token-refresher.js';
import { describeRequestParameters, requestParametersOf } from './token-request-parameters.js';
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
  private readonly freshness: FreshnessTimer;
  private readonly refresher: TokenRefresher;

  constructor(@Optional() @Inject(TOKEN_SERVICE_SETTINGS) settings: TokenServiceSettings = {}) {
    this.clock = settings.clock ?? systemClock;
    this.store = settings.store ?? new MemoryTokenStore();
    this.safetyMarginMs = settings.safetyMarginMs ?? TOKEN_DEFAULTS.safetyMarginMs;
    this.maxVariantsPerProvider = settings.maxVariantsPerProvider ?? TOKEN_DEFAULTS.maxVariantsPerProvider;
    this.freshness = new FreshnessTimer(this.clock, () => this.allEntries());
    this.refresher = new TokenRefresher({
      clock: this.clock,
      store: this.store,
      random: settings.random ?? Math.random,
      logger: this.logger,
      events: this.events,
      freshness: this.freshness,
      refreshTimeoutMs: settings.refreshTimeoutMs ?? TOKEN_DEFAULTS.refreshTimeoutMs,
    });
    this.store.onInvalidate((key) => this.evictByCacheKey(key));
  }

  /**
   * A valid token for the provider. A cache hit is a map lookup and a flag read (the flag is kept
   * by a timer); otherwise callers share one refresh. Rejects with `TokenAcquisitionError` when no
   * valid token can be had.
   */
  getToken(name: string, options?: GetTokenOptions): Promise<TokenInfo> {
    const entry = this.entries.get(name);
    if (entry !== undefined && options === undefined && entry.fresh) {
      // The flag is cleared by a timer, which a long chain of microtasks never lets run: every
      // FRESHNESS_CHECK_INTERVAL hits the clock is read anyway.
      if ((++entry.hits & FRESHNESS_CHECK_MASK) !== 0 || this.clock.now() < entry.refreshAt) {
        return entry.resolved!;
      }
      entry.hits--;
      entry.fresh = false;
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
    doomed.forEach((entry) => entry.evict());
    await Promise.all(doomed.map((entry) => this.invalidateShared(entry.strategy.cacheKey, onlyIfToken)));
    return true;
  }

  /** Drops every cached token. */
  async clear(): Promise<void> {
    const entries = [...this.allEntries()];
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
      const { field, message } = describeZodIssue(parsed.error.issues[0]);
      throw new InvalidTokenOptionsError(`token provider "${name}": ${message}`, name, field);
    }
    const margin = parsed.data.safetyMarginMs ?? this.safetyMarginMs;
    this.entries.set(name, new TokenCacheEntry(name, strategy, parsed.data, margin));
    noteSenderConstraint(this, name, strategy);
  }

  /** Removes a provider registered at run time; false when there was none. */
  unregister(name: string): boolean {
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    for (const member of entry.withVariants()) member.evict();
    noteSenderConstraint(this, name, undefined);
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

  /** Counters and per-provider state (variants listed as `name (scope=…)`). Holds no token value. */
  getStats(): TokenStats {
    return collectTokenStats(this.allEntries(), this.clock.now());
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
    for (const entry of this.allEntries()) {
      if (entry.info === undefined) continue;
      const dueBy = now + horizonMs + (entry.lastRefreshDurationMs ?? 0);
      // Early, but never before half its life: a token shorter than the sweep interval is left to
      // its callers' background refresh instead of being replaced just after it arrived.
      if (now >= entry.refreshAt || (now >= entry.halfLifeAt && dueBy > entry.mustRefreshAt)) {
        const pending = this.refresher.inBackground(entry, now);
        if (pending !== undefined) started.push(pending);
      }
    }
    return started;
  }

  /** Lets refreshes in flight settle (at most `shutdownTimeoutMs`), then closes the store. */
  async onApplicationShutdown(): Promise<void> {
    this.freshness.stop();
    const inflight = [...this.allEntries()].map((entry) => entry.inflight).filter((p) => p !== undefined);
    if (inflight.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, TOKEN_DEFAULTS.shutdownTimeoutMs);
        timer.unref();
      });
      await Promise.race([Promise.allSettled(inflight), deadline]);
      clearTimeout(timer);
    }
    await this.store.close();
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
    let entry: TokenCacheEntry;
    try {
      entry = this.variantOf(base, requestParametersOf(options));
    } catch (error) {
      return Promise.reject(error);
    }
    const force = options?.forceRefresh === true;
    const now = this.clock.now();
    const info = entry.info;
    if (!force && info !== undefined && now < info.expiresAt) {
      // Fresh, seen by the clock: a variant, a clock other than the system one, or options.
      if (now < entry.refreshAt) {
        entry.hits++;
        return entry.resolved!;
      }
      // Should refresh: the token is still outside its margin; serve it and refresh behind the caller.
      if (now <= entry.mustRefreshAt) {
        entry.hits++;
        this.refresher.inBackground(entry, now);
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
        this.refresher.inBackground(entry, now);
        return Promise.resolve(this.refresher.serveFallback(entry, info));
      }
    }
    // Must refresh: every caller waits for the same refresh.
    entry.misses++;
    if (!force && entry.inflight === undefined && now < entry.nextAttemptAt) {
      // Cooling down after a failure: fail fast instead of calling a dead endpoint for every caller.
      return Promise.reject(this.refresher.noValidToken(entry, entry.lastError));
    }
    // A forced refresh must not take back, from a shared store, the very token it is replacing.
    const pending = this.refresher.start(entry, false, force ? info?.token : undefined);
    return force ? pending : pending.catch((error: unknown) => this.refresher.fallbackOrThrow(entry, error));
  }

  /** The entry for these per-call parameters: the provider's own without any, else a variant. */
  private variantOf(base: TokenCacheEntry, parameters: TokenRequestParameters | undefined): TokenCacheEntry {
    if (parameters === undefined) return base;
    const label = describeRequestParameters(parameters);
    if (label === '') return base;
    const variants = (base.variants ??= new Map());
    const existing = variants.get(label);
    if (existing !== undefined) {
      // Map order is use order: the least recently used variant is the first key.
      variants.delete(label);
      variants.set(label, existing);
      return existing;
    }
    if (base.strategy.withParameters === undefined) {
      throw new InvalidTokenOptionsError(
        `token provider "${base.name}" takes no per-call scope, audience, resource or tenant`,
        base.name,
        'parameters',
      );
    }
    if (variants.size >= this.maxVariantsPerProvider) this.dropLeastRecentlyUsed(base, variants);
    const strategy = base.strategy.withParameters(parameters);
    const variant = new TokenCacheEntry(
      `${base.name} (${label})`,
      strategy,
      base.options,
      base.safetyMarginMs,
    );
    variants.set(label, variant);
    return variant;
  }

  private dropLeastRecentlyUsed(base: TokenCacheEntry, variants: Map<string, TokenCacheEntry>): void {
    const [label, variant] = variants.entries().next().value!;
    if (
      variant.info !== undefined &&
      !variant.info.isExpiredAt(this.clock.now()) &&
      !base.variantsOverflowed
    ) {
      base.variantsOverflowed = true;
      this.logger.warn(
        `token provider "${base.name}": more than ${this.maxVariantsPerProvider} per-call variants in use; ` +
          'dropping the least recently used (raise maxVariantsPerProvider, or register a provider per tenant)',
      );
    }
    variant.evict();
    variants.delete(label);
  }

  private *allEntries(): IterableIterator<TokenCacheEntry> {
    for (const entry of this.entries.values()) yield* entry.withVariants();
  }

  private evictByCacheKey(cacheKey: string): void {
    for (const entry of this.allEntries()) {
      if (entry.strategy.cacheKey === cacheKey) entry.evict();
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
