import type { ProviderTokenStats, TokenEntryCounters } from '../core/token-stats.types.js';
import { ProviderLabels, SUMMED_COUNTERS, type SummedCounter } from './token-metrics.providers.js';
import type { TokenMetricsSource } from './token-metrics.types.js';

type Counts = Record<SummedCounter, number>;

function zero(counts: Counts): void {
  for (const counter of SUMMED_COUNTERS) counts[counter] = 0;
}
function add(to: Counts, from: Counts): void {
  for (const counter of SUMMED_COUNTERS) to[counter] += from[counter];
}

/**
 * One label's series (a provider, or the overflow label): its label set, built once and handed to
 * prom-client on every scrape, and its figures, rewritten in place.
 */
export class LabelSeries implements Counts {
  readonly labels: { readonly provider: string };
  hits = 0;
  misses = 0;
  refreshes = 0;
  failures = 0;
  fallbacks = 0;
  unauthorizedRetries = 0;
  /** Soonest expiry among its cached tokens, in ms from now; null with none. */
  expiresInMs: number | null = null;
  degraded = false;
  /** What entries gone since (dropped or re-created variants) had counted: added back, so counters never go down. */
  readonly retired: Counts = {
    hits: 0,
    misses: 0,
    refreshes: 0,
    failures: 0,
    fallbacks: 0,
    unauthorizedRetries: 0,
  };
  /** The scrape that last saw an entry of it. */
  seenAt = 0;

  constructor(provider: string) {
    this.labels = { provider };
  }
}

/** What the last scrape saw of one entry: its series and its counters then. */
class EntryState implements Counts {
  hits = 0;
  misses = 0;
  refreshes = 0;
  failures = 0;
  fallbacks = 0;
  unauthorizedRetries = 0;
  seenAt = 0;

  constructor(
    readonly name: string,
    /** The provider name (or, from `getStats()`, the entry name) the series was chosen from. */
    readonly key: string,
    readonly series: LabelSeries,
  ) {}
}

/**
 * The figures of a Prometheus scrape, kept between scrapes: a series per label and a state per
 * entry, both updated in place, so a scrape of N providers reads each entry's counters once and
 * allocates per new entry only. With a source that walks its entries (`TokenService`), no record
 * is built per provider; other sources are read through `getStats()`. Same figures as a
 * {@link monotonicSnapshotReader}: variants summed into their provider, counters monotonic while
 * variants come and go, providers past the cap under the overflow label.
 */
export class ScrapeTotals {
  readonly #source: Pick<TokenMetricsSource, 'getStats' | 'providerNames' | 'forEachTokenEntry'>;
  readonly #labels: ProviderLabels;
  readonly #series = new Map<string, LabelSeries>();
  readonly #entries = new Map<string, EntryState>();
  #scrape = 0;
  /** Entries seen in the current scrape. */
  #seen = 0;
  /** The entries' states in the order of the last walk. */
  readonly #slots: EntryState[] = [];
  #position = 0;
  tokensCached = 0;
  hits = 0;
  misses = 0;

  constructor(
    source: Pick<TokenMetricsSource, 'getStats' | 'providerNames' | 'forEachTokenEntry'>,
    labels: ProviderLabels,
  ) {
    this.#source = source;
    this.#labels = labels;
  }

  /** The live series after {@link read}. */
  series(): IterableIterator<LabelSeries> {
    return this.#series.values();
  }

  read(): void {
    const scrape = ++this.#scrape;
    for (const series of this.#series.values()) {
      for (const counter of SUMMED_COUNTERS) series[counter] = series.retired[counter];
      series.expiresInMs = null;
      series.degraded = false;
    }
    this.tokensCached = 0;
    this.#seen = 0;
    this.#position = 0;
    const source = this.#source;
    if (source.forEachTokenEntry !== undefined) {
      source.forEachTokenEntry(this.#visit);
    } else {
      for (const [name, stats] of Object.entries(source.getStats().tokens)) this.#addStats(name, stats);
    }
    this.#slots.length = this.#position;
    // Entries gone since the last scrape (dropped variants, removed providers): only when some are.
    if (this.#seen < this.#entries.size) {
      for (const [name, state] of this.#entries) {
        if (state.seenAt === scrape) continue;
        this.#retire(state);
        this.#entries.delete(name);
      }
    }
    this.hits = 0;
    this.misses = 0;
    for (const [label, series] of this.#series) {
      if (series.seenAt !== scrape) {
        this.#series.delete(label); // the provider is gone: its series (and what it had retired) with it
        continue;
      }
      this.hits += series.hits;
      this.misses += series.misses;
    }
  }

  /** From `forEachTokenEntry`: the provider's name is known, no name parsing. */
  readonly #visit = (provider: string, entry: TokenEntryCounters, now: number): void => {
    const info = entry.info;
    if (info !== undefined) this.tokensCached++;
    const series = this.#track(entry.name, provider, entry, true);
    if (info !== undefined) {
      const expiresIn = info.expiresAt - now;
      if (series.expiresInMs === null || expiresIn < series.expiresInMs) series.expiresInMs = expiresIn;
    }
    if (entry.consecutiveFailures > 0) series.degraded = true;
  };

  #addStats(name: string, stats: ProviderTokenStats): void {
    if (stats.cached) this.tokensCached++;
    const series = this.#track(name, name, stats, false);
    if (stats.expiresIn !== null && (series.expiresInMs === null || stats.expiresIn < series.expiresInMs))
      series.expiresInMs = stats.expiresIn;
    if (stats.degraded) series.degraded = true;
  }

  /**
   * Adds the entry's counters to its series, retiring what an entry of the same name counted before
   * it was re-created. Runs once per entry per scrape: plain field reads, nothing allocated.
   */
  #track(name: string, key: string, counts: Counts, registered: boolean): LabelSeries {
    const hits = counts.hits;
    const misses = counts.misses;
    const refreshes = counts.refreshes;
    const failures = counts.failures;
    const fallbacks = counts.fallbacks;
    const unauthorizedRetries = counts.unauthorizedRetries;
    // Entries come in the same order scrape after scrape: the state at the same position is this
    // entry's unless entries came or went, and only then is it looked up by name.
    const position = this.#position++;
    let state: EntryState | undefined = this.#slots[position];
    if (state === undefined || state.name !== name) state = this.#entries.get(name);
    if (
      state !== undefined &&
      (state.key !== key ||
        hits < state.hits ||
        misses < state.misses ||
        refreshes < state.refreshes ||
        failures < state.failures ||
        fallbacks < state.fallbacks ||
        unauthorizedRetries < state.unauthorizedRetries)
    ) {
      this.#retire(state);
      state = undefined;
    }
    if (state === undefined) {
      const label = registered ? this.#labels.labelOfProvider(key) : this.#labels.labelOf(key);
      let series = this.#series.get(label);
      if (series === undefined) this.#series.set(label, (series = new LabelSeries(label)));
      state = new EntryState(name, key, series);
      this.#entries.set(name, state);
    }
    this.#slots[position] = state;
    const series = state.series;
    state.hits = hits;
    state.misses = misses;
    state.refreshes = refreshes;
    state.failures = failures;
    state.fallbacks = fallbacks;
    state.unauthorizedRetries = unauthorizedRetries;
    series.hits += hits;
    series.misses += misses;
    series.refreshes += refreshes;
    series.failures += failures;
    series.fallbacks += fallbacks;
    series.unauthorizedRetries += unauthorizedRetries;
    state.seenAt = this.#scrape;
    series.seenAt = this.#scrape;
    this.#seen++;
    return series;
  }

  #retire(state: EntryState): void {
    // This scrape's figures started from the series' retired counts: these join both.
    add(state.series.retired, state);
    add(state.series, state);
    zero(state);
  }
}
