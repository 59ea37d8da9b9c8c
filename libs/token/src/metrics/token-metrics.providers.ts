import type { ProviderTokenStats, TokenStats } from '../core/token-stats.types.js';
import type {
  ProviderMetricsSnapshot,
  TokenMetricsSnapshot,
  TokenMetricsSource,
} from './token-metrics.types.js';

/**
 * Metrics are labelled by provider name only. `getStats()` lists each per-call variant (another
 * tenant or scope, chosen by callers) under its own name, `graph (tenant=…)`; a label per variant
 * would grow without bound. These helpers fold variants into their provider and keep counters
 * monotonic although the service drops least-recently-used variants.
 */

/** The label of the providers beyond `maxProviders`. */
export const OVERFLOW_PROVIDER_LABEL = '__overflow__';

/** Default cap on provider labels, for applications that register a provider per tenant at run time. */
export const DEFAULT_MAX_PROVIDER_LABELS = 500;

/** Counters summed per provider. */
export const SUMMED_COUNTERS = [
  'hits',
  'misses',
  'refreshes',
  'failures',
  'fallbacks',
  'unauthorizedRetries',
] as const;
export type SummedCounter = (typeof SUMMED_COUNTERS)[number];
type Counters = Record<SummedCounter, number>;

/** One provider's figures, its variants included. */
export interface ProviderTotals extends Counters {
  /** Soonest expiry among its cached tokens, in ms; null with none. */
  expiresIn: number | null;
  /** Some token of the provider (its own or a variant's) failed its last refresh. */
  degraded: boolean;
  lastRefreshDurationMs: number | null;
}

/** Where a stats entry's name belongs: its provider's name (or the overflow label past the cap). */
export class ProviderLabels {
  #known = new Set<string>();
  readonly #assigned = new Set<string>();

  constructor(
    private readonly providerNames: (() => readonly string[]) | undefined,
    private readonly maxLabels = DEFAULT_MAX_PROVIDER_LABELS,
  ) {}

  /** The label of a stats entry: `graph (tenant=a)` → `graph`. */
  labelOf(entryName: string): string {
    return this.labelOfProvider(this.#providerOf(entryName));
  }

  /** The label of a registered provider's name: itself, or the overflow label past the cap. */
  /** The label of a `getStats()` row: its `provider` field when it has one, never its name parsed. */
  labelOfRow(entryName: string, row: { provider?: string }): string {
    return row.provider === undefined ? this.labelOf(entryName) : this.labelOfProvider(row.provider);
  }

  labelOfProvider(provider: string): string {
    if (this.#assigned.has(provider)) return provider;
    if (this.#assigned.size >= this.maxLabels) return OVERFLOW_PROVIDER_LABEL;
    this.#assigned.add(provider);
    return provider;
  }

  #providerOf(entryName: string): string {
    if (this.#known.has(entryName)) return entryName;
    if (this.providerNames !== undefined) {
      const found = this.#longestRegisteredPrefix(entryName);
      if (found !== undefined) return found;
      // A provider registered since the last look: read the names again, once.
      this.#known = new Set(this.providerNames());
      if (this.#known.has(entryName)) return entryName;
      const again = this.#longestRegisteredPrefix(entryName);
      if (again !== undefined) return again;
    }
    // A source that cannot list its providers: a variant's name is `<provider> (<name>=<value>, …)`,
    // made by the library; any such suffix goes, whatever parameter comes first (`subject=` too).
    return entryName.replace(/ \([a-z]+=[\s\S]*\)$/i, '');
  }

  #longestRegisteredPrefix(entryName: string): string | undefined {
    for (let end = entryName.lastIndexOf(' ('); end > 0; end = entryName.lastIndexOf(' (', end - 1)) {
      const candidate = entryName.slice(0, end);
      if (this.#known.has(candidate)) return candidate;
    }
    return undefined;
  }
}

/** Folds stats entries into their providers' totals (counters as they are now). */
export function sumByProvider(
  tokens: TokenStats['tokens'],
  labelOf: (entryName: string, row: ProviderTokenStats) => string,
): Map<string, ProviderTotals> {
  const totals = new Map<string, ProviderTotals>();
  for (const [name, entry] of Object.entries(tokens)) {
    const label = labelOf(name, entry);
    let sum = totals.get(label);
    if (sum === undefined) {
      sum = {
        hits: 0,
        misses: 0,
        refreshes: 0,
        failures: 0,
        fallbacks: 0,
        unauthorizedRetries: 0,
        expiresIn: null,
        degraded: false,
        lastRefreshDurationMs: null,
      };
      totals.set(label, sum);
    }
    for (const counter of SUMMED_COUNTERS) sum[counter] += entry[counter];
    if (entry.expiresIn !== null) sum.expiresIn = Math.min(sum.expiresIn ?? Infinity, entry.expiresIn);
    sum.degraded ||= entry.degraded;
    if (entry.lastRefreshDurationMs !== null) {
      sum.lastRefreshDurationMs = Math.max(sum.lastRefreshDurationMs ?? 0, entry.lastRefreshDurationMs);
    }
  }
  return totals;
}

/**
 * Keeps per-provider counters from going down when the service drops a variant (or re-creates one
 * under the same name): what a vanished entry had counted at the last look is kept as "retired" and
 * added back. Memory is bounded by the entries alive at one time, never by how many ever existed.
 */
export class MonotonicProviderTotals {
  #lastSeen = new Map<string, { label: string; counters: Counters }>();
  readonly #retired = new Map<string, Counters>();

  constructor(private readonly labels: ProviderLabels) {}

  read(tokens: TokenStats['tokens']): Map<string, ProviderTotals> {
    const totals = sumByProvider(tokens, (name, row) => this.labels.labelOfRow(name, row));
    const seen = new Map<string, { label: string; counters: Counters }>();
    for (const [name, entry] of Object.entries(tokens) as [string, ProviderTokenStats][]) {
      const counters = pick(entry);
      const previous = this.#lastSeen.get(name);
      if (previous !== undefined && SUMMED_COUNTERS.some((c) => counters[c] < previous.counters[c])) {
        this.#retire(previous.label, previous.counters); // re-created since: its old counts are gone
      }
      seen.set(name, { label: this.labels.labelOfRow(name, entry), counters });
    }
    for (const [name, previous] of this.#lastSeen) {
      if (!seen.has(name)) this.#retire(previous.label, previous.counters);
    }
    this.#lastSeen = seen;
    for (const [label, retired] of this.#retired) {
      const sum = totals.get(label);
      if (sum === undefined) continue; // the provider is gone: its series goes with it
      for (const counter of SUMMED_COUNTERS) sum[counter] += retired[counter];
    }
    for (const label of this.#retired.keys()) if (!totals.has(label)) this.#retired.delete(label);
    return totals;
  }

  #retire(label: string, counters: Counters): void {
    const retired = this.#retired.get(label) ?? pick(undefined);
    for (const counter of SUMMED_COUNTERS) retired[counter] += counters[counter];
    this.#retired.set(label, retired);
  }
}

function pick(entry: Counters | undefined): Counters {
  return {
    hits: entry?.hits ?? 0,
    misses: entry?.misses ?? 0,
    refreshes: entry?.refreshes ?? 0,
    failures: entry?.failures ?? 0,
    fallbacks: entry?.fallbacks ?? 0,
    unauthorizedRetries: entry?.unauthorizedRetries ?? 0,
  };
}

/**
 * A reader of snapshots for an exporter that scrapes again and again: counters stay monotonic when
 * the service drops a variant, and providers past `maxProviders` share one overflow label.
 */
export function monotonicSnapshotReader(
  source: Pick<TokenMetricsSource, 'getStats' | 'providerNames'>,
  maxProviders = DEFAULT_MAX_PROVIDER_LABELS,
): { read(): TokenMetricsSnapshot; labelOf(entryName: string): string } {
  const labels = new ProviderLabels(source.providerNames?.bind(source), maxProviders);
  const totals = new MonotonicProviderTotals(labels);
  return {
    read: () => {
      const stats = source.getStats();
      return toSnapshot(stats, totals.read(stats.tokens));
    },
    labelOf: (entryName) => labels.labelOf(entryName),
  };
}

export function toSnapshot(stats: TokenStats, totals: Map<string, ProviderTotals>): TokenMetricsSnapshot {
  const snapshot: TokenMetricsSnapshot = {
    tokensCached: stats.totalCached,
    hits: 0,
    misses: 0,
    hitRate: 0,
    refreshes: 0,
    refreshFailures: 0,
    fallbacksServed: 0,
    unauthorizedRetries: 0,
    providers: {},
  };
  for (const [name, total] of totals) {
    const calls = total.hits + total.misses;
    const provider: ProviderMetricsSnapshot = {
      hits: total.hits,
      misses: total.misses,
      hitRate: calls === 0 ? 0 : total.hits / calls,
      refreshes: total.refreshes,
      refreshFailures: total.failures,
      fallbacksServed: total.fallbacks,
      unauthorizedRetries: total.unauthorizedRetries,
      expiresInSeconds: total.expiresIn === null ? null : total.expiresIn / 1000,
      degraded: total.degraded ? 1 : 0,
      lastRefreshDurationSeconds:
        total.lastRefreshDurationMs === null ? null : total.lastRefreshDurationMs / 1000,
    };
    // A provider may be named `__proto__`: define, never assign.
    Object.defineProperty(snapshot.providers, name, {
      value: provider,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    snapshot.hits += provider.hits;
    snapshot.misses += provider.misses;
    snapshot.refreshes += provider.refreshes;
    snapshot.refreshFailures += provider.refreshFailures;
    snapshot.fallbacksServed += provider.fallbacksServed;
    snapshot.unauthorizedRetries += provider.unauthorizedRetries;
  }
  const calls = snapshot.hits + snapshot.misses;
  snapshot.hitRate = calls === 0 ? 0 : snapshot.hits / calls;
  return snapshot;
}
