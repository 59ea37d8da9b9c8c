import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { systemClock, type Clock } from '../core/clock.js';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import { TokenRefreshEngine } from '../refresh/token-refresh.engine.js';
import { collectTokenStats, forEachTokenEntry } from '../refresh/token-stats.js';
import type { TokenEntryCounters, TokenStats } from '../core/token-stats.types.js';
import type { ClockSample } from '../refresh/token-clock.sample.js';
import type { TokenCacheEntry } from '../refresh/token-cache-entry.js';
import { MemoryTokenStore } from '../stores/memory-token.store.js';
import type { SenderConstraint } from '../core/sender-constraint.js';
import type { TokenSource } from '../core/token-source.js';
import { TokenProviderNotFoundError } from '../core/token.errors.js';
import { RegisteredProvider, type ProviderRegistry } from './registered-provider.js';
import { TOKEN_DEFAULTS } from '../core/token.constants.js';
import { TokenEvents } from '../core/token.events.js';
import type { TokenInfo } from '../core/token-info.js';
import type { TokenRequestParameters, TokenStrategy } from '../core/token-strategy.interface.js';
import {
  TOKEN_SERVICE_SETTINGS,
  type GetTokenOptions,
  type InvalidateOptions,
  type TokenServiceSettings,
} from '../core/token.service-settings.js';

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
export class TokenService implements TokenSource, OnApplicationShutdown {
  /** Refreshes, failures, fallbacks and expiries, for listeners. */
  readonly events = new TokenEvents();
  private readonly logger = new Logger('TokenService');
  private readonly clock: Clock;
  private readonly random: () => number;
  /** What each registered provider asks of this registry (a token, an invalidation, clock and log). */
  readonly #registry: ProviderRegistry;
  /** The slow path, eviction, the schedule and shutdown: everything but the cache hit. */
  private readonly engine: TokenRefreshEngine;
  /** The engine's entries and clock sample, held here so that a cache hit reads them directly. */
  private readonly entries: Map<string, TokenCacheEntry>;
  private readonly sample: ClockSample;
  /**
   * Per registered name, once a request has asked for it: its options, strategy, sender constraint
   * and token cell in one object. Made on first use, not at registration, so that 10,000 providers
   * only ever read by `getToken` cost no more than their cells.
   */
  readonly #providers = new Map<string, RegisteredProvider>();

  constructor(@Optional() @Inject(TOKEN_SERVICE_SETTINGS) settings: TokenServiceSettings = {}) {
    this.clock = settings.clock ?? systemClock;
    this.random = settings.random ?? Math.random;
    this.engine = new TokenRefreshEngine({
      clock: this.clock,
      store: settings.store ?? new MemoryTokenStore(),
      random: this.random,
      logger: this.logger,
      events: this.events,
      safetyMarginMs: settings.safetyMarginMs ?? TOKEN_DEFAULTS.safetyMarginMs,
      refreshTimeoutMs: settings.refreshTimeoutMs ?? TOKEN_DEFAULTS.refreshTimeoutMs,
      maxVariantsPerProvider: settings.maxVariantsPerProvider ?? TOKEN_DEFAULTS.maxVariantsPerProvider,
      shutdownTimeoutMs: settings.shutdownTimeoutMs ?? TOKEN_DEFAULTS.shutdownTimeoutMs,
    });
    this.entries = this.engine.entries;
    this.sample = this.engine.sample;
    this.#registry = {
      getToken: (name) => this.getToken(name),
      invalidate: (name, options) => this.invalidate(name, options),
      clock: this.clock,
      random: this.random,
      logger: this.logger,
    };
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
    return this.engine.acquire(name, entry, options);
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
  invalidate(name: string, options?: InvalidateOptions): Promise<boolean> {
    return this.engine.invalidate(name, options?.onlyIfToken);
  }

  /** Drops every cached token. */
  clear(): Promise<void> {
    return this.engine.clear();
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
    this.engine.add(name, strategy, options);
  }

  /** Removes a provider registered at run time; false when there was none. */
  unregister(name: string): boolean {
    if (!this.engine.remove(name)) return false;
    this.#providers.delete(name);
    return true;
  }

  hasProvider(name: string): boolean {
    return this.entries.has(name);
  }

  providerNames(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * The registered provider: its options, strategy, sender constraint and token cell, and what a
   * request asks of it. The HTTP integration asks for it once per request. Throws
   * `TokenProviderNotFoundError` for an unknown name.
   */
  provider(name: string): RegisteredProvider {
    let provider = this.#providers.get(name);
    if (provider === undefined) {
      const cell = this.entries.get(name);
      if (cell === undefined) throw new TokenProviderNotFoundError(name);
      provider = new RegisteredProvider(cell, this.#registry);
      this.#providers.set(name, provider);
    }
    return provider;
  }

  /** How the provider's strategy binds its tokens (DPoP, mTLS), as it declared at registration. */
  senderConstraintOf(name: string): SenderConstraint | undefined {
    return this.hasProvider(name) ? this.provider(name).senderConstraint : undefined;
  }

  /** The options a provider was registered with (origins, margin…), for the HTTP integration. */
  getProviderOptions(name: string): Readonly<ProviderOptions> {
    return this.entryOf(name).options;
  }

  /** Counts a request the HTTP integration retried after a 401; shows in `getStats()`. */
  recordUnauthorizedRetry(name: string): void {
    this.entryOf(name).retriedAfterRejection();
  }

  /**
   * Tells the cache that an API accepted `token` (answered a request carrying it with something else
   * than 401). A token a 401 renewal brought counts toward the renewal backoff only while it was never
   * accepted: once accepted, its rejection is a revocation and renews at once. The HTTP integration
   * calls this after a retry with a renewed token succeeds.
   */
  noteTokenAccepted(name: string, token: string): void {
    if (this.hasProvider(name)) this.provider(name).noteTokenAccepted(token);
  }

  /**
   * The token to retry a request with after an API rejected `rejectedToken` with 401, counted as a
   * retry. The first 401 for the current token evicts it and gets a new one (one refresh, however
   * many requests were rejected); so does a 401 for a token the API had accepted (a revocation).
   * While the API rejects the renewed tokens before ever accepting one, renewals back off as
   * failed refreshes do (1 s doubling to 60 s, with jitter) and the cached token is returned meanwhile,
   * so requests get the API's 401 instead of costing a token request each; one warning says so.
   */
  renewAfterUnauthorized(name: string, rejectedToken: string): Promise<TokenInfo> {
    try {
      return this.provider(name).renewAfterUnauthorized(rejectedToken);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Counters and per-provider state (variants listed as `name (scope=…)`). Holds no token value. */
  getStats(): TokenStats {
    return collectTokenStats(this.entries.values(), this.clock.now());
  }

  /**
   * The counters of every token entry, each per-call variant under its provider's name, handed over
   * as they are (read-only) instead of as a record each: what a metrics exporter reads on every
   * scrape. `now` is the clock's, against which `info.expiresAt` is read.
   */
  forEachTokenEntry(visit: (provider: string, entry: TokenEntryCounters, now: number) => void): void {
    forEachTokenEntry(this.entries.values(), this.clock.now(), visit);
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
    return this.engine.refreshDue(horizonMs);
  }

  /**
   * Waits for the refreshes under way, at most `shutdownTimeoutMs` from the first call, whoever
   * calls (the scheduler's shutdown hook, then this service's): the budget is shared. What still
   * runs then is abandoned (its timers are unref'd, the process can exit) and logged once.
   */
  settleRefreshes(): Promise<void> {
    return this.engine.settleRefreshes();
  }

  /** Lets refreshes in flight settle, then closes the store; the whole within `shutdownTimeoutMs`. */
  onApplicationShutdown(): Promise<void> {
    return this.engine.close();
  }

  private entryOf(name: string): TokenCacheEntry {
    return this.engine.entryOf(name);
  }
}
