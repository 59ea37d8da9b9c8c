import type { TokenCacheEntry } from './token-cache-entry.js';
import type { ProviderTokenStats, TokenEntryCounters, TokenStats } from '../core/token-stats.types.js';
import { refreshStateOf } from './token-refresh.state.js';

/**
 * Sums the counters of every provider (and its per-call variants) and describes each one; reads no
 * token value. One pass, a constant amount of work per entry: it costs what the result holds.
 */
export function collectTokenStats(providers: Iterable<TokenCacheEntry>, now: number): TokenStats {
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
  const withVariants: TokenCacheEntry[] = [];
  for (const provider of providers) {
    addEntry(stats, provider.name, provider, provider, now);
    if (provider.variants !== undefined) withVariants.push(provider);
  }
  // Variants after every registered name, so that an odd registered name always keeps its own row.
  for (const provider of withVariants) {
    for (const variant of provider.variants!.values()) {
      let key = variant.name;
      for (let n = 2; Object.hasOwn(stats.tokens, key); n++) key = `${variant.name} #${n}`;
      addEntry(stats, key, provider, variant, now);
    }
  }
  const calls = stats.hits + stats.misses;
  stats.hitRate = calls === 0 ? 0 : stats.hits / calls;
  return stats;
}

function addEntry(
  stats: TokenStats,
  key: string,
  provider: TokenCacheEntry,
  entry: TokenCacheEntry,
  now: number,
): void {
  const info = entry.info;
  if (info !== undefined) stats.totalCached++;
  stats.hits += entry.hits;
  stats.misses += entry.misses;
  stats.refreshes += entry.refreshes;
  stats.failures += entry.failures;
  stats.fallbacks += entry.fallbacks;
  stats.unauthorizedRetries += entry.unauthorizedRetries;
  // Defined, not assigned: a provider registered as `__proto__` is a row like any other.
  Object.defineProperty(stats.tokens, key, {
    enumerable: true,
    writable: true,
    configurable: true,
    value: tokenStatsOf(provider, entry, info, now),
  });
}

function tokenStatsOf(
  provider: TokenCacheEntry,
  entry: TokenCacheEntry,
  info: TokenCacheEntry['info'],
  now: number,
): ProviderTokenStats {
  return {
    provider: provider.name,
    cached: info !== undefined,
    state: refreshStateOf(entry, now),
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
  };
}

/** Visits every entry (each per-call variant under its provider's name), allocating nothing. */
export function forEachTokenEntry(
  providers: Iterable<TokenCacheEntry>,
  now: number,
  visit: (provider: string, entry: TokenEntryCounters, now: number) => void,
): void {
  for (const provider of providers) {
    visit(provider.name, provider, now);
    if (provider.variants !== undefined)
      for (const variant of provider.variants.values()) visit(provider.name, variant, now);
  }
}
