import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TokenEventMap } from '../core/token.events.js';
import { DEFAULT_MAX_PROVIDER_LABELS, ProviderLabels } from './token-metrics.providers.js';
import { ScrapeTotals, type LabelSeries } from './token-metrics.scrape.js';
import type { TokenMetricsSource } from './token-metrics.types.js';

/**
 * Refresh latency buckets in seconds: a local JWT signs in well under 10 ms, an OAuth2 endpoint
 * answers in tens to hundreds of ms, and the request timeout is 10 s.
 */
export const REFRESH_DURATION_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Options of {@link registerTokenMetrics}. @publicApi */
export interface PrometheusTokenMetricsOptions {
  /** Prepended to every metric name. Default `token_manager_`. */
  prefix?: string;
  /**
   * Label series by provider name. Default true. Set false with many run-time providers (one per
   * tenant), where a series per provider would be too many; totals stay.
   */
  perProvider?: boolean;
  /**
   * Most provider labels; further providers share the label `__overflow__`. Per-call variants
   * (`getToken(name, { tenant, scope })`) never get a label of their own: they are summed into their
   * provider. Default 500.
   */
  maxProviders?: number;
  /** Buckets of the refresh duration histogram, in seconds. Default {@link REFRESH_DURATION_BUCKETS_SECONDS}. */
  refreshDurationBuckets?: readonly number[];
}

/** What {@link registerTokenMetrics} returns: the registered metrics and a way to remove them. @publicApi */
export interface PrometheusTokenMetrics {
  /** Stops listening to the service and removes the metrics from the registry. */
  unregister(): void;
}

type CounterField = 'hits' | 'misses' | 'refreshes' | 'failures' | 'fallbacks' | 'unauthorizedRetries';

const COUNTERS: readonly { name: string; help: string; field: CounterField }[] = [
  { name: 'cache_hits_total', help: 'Calls served from the in-process cache.', field: 'hits' },
  {
    name: 'cache_misses_total',
    help: 'Calls that waited for a token (no valid token cached).',
    field: 'misses',
  },
  { name: 'refreshes_total', help: 'Tokens obtained (strategy or shared store).', field: 'refreshes' },
  { name: 'refresh_failures_total', help: 'Refreshes that failed.', field: 'failures' },
  {
    name: 'fallbacks_served_total',
    help: 'Calls served the still-valid cached token while refreshes failed.',
    field: 'fallbacks',
  },
  {
    name: 'unauthorized_retries_total',
    help: 'HTTP requests retried once with a new token after a 401.',
    field: 'unauthorizedRetries',
  },
];

/**
 * Exposes a `TokenService`'s figures on a prom-client registry: counters and gauges are read from
 * `getStats()` when the registry is scraped (nothing on the hot path), refresh latency is a histogram
 * fed by the service's `refreshed` events. Labels are provider names only, never a token or a secret;
 * per-call variants are summed into their provider, so the number of series is bounded by the
 * providers (and `maxProviders`), whatever tenants or scopes callers pass.
 * prom-client is an optional peer dependency; this entry point is the only one that imports it.
 *
 * Metrics (default prefix `token_manager_`): `cache_hits_total`, `cache_misses_total`,
 * `cache_hit_ratio`, `tokens_cached`, `refreshes_total`, `refresh_failures_total`,
 * `fallbacks_served_total`, `unauthorized_retries_total`, `token_expires_in_seconds`,
 * `provider_degraded`, `refresh_duration_seconds` (histogram, labels `provider`, `background`).
 *
 * @publicApi
 * @example
 * import { register } from 'prom-client';
 * import { registerTokenMetrics } from 'nest-token-manager/metrics';
 * registerTokenMetrics(app.get(TokenService), register);
 */
export function registerTokenMetrics(
  source: TokenMetricsSource,
  registry: Registry,
  options: PrometheusTokenMetricsOptions = {},
): PrometheusTokenMetrics {
  const prefix = options.prefix ?? 'token_manager_';
  const perProvider = options.perProvider ?? true;
  const providerLabels = perProvider ? ['provider'] : [];
  const registers = [registry];
  const names: string[] = [];
  const labels = new ProviderLabels(
    source.providerNames?.bind(source),
    options.maxProviders ?? DEFAULT_MAX_PROVIDER_LABELS,
  );
  // Series and per-entry state kept between scrapes and updated in place; label sets built once.
  const totals = new ScrapeTotals(source, labels);
  // One scrape calls every metric's collect(); they share one read, done again after the current turn.
  let fresh = false;
  const read = (): ScrapeTotals => {
    if (!fresh) {
      totals.read();
      fresh = true;
      setImmediate(() => (fresh = false));
    }
    return totals;
  };
  const named = <T extends string>(name: T) => {
    names.push(`${prefix}${name}`);
    return `${prefix}${name}`;
  };

  for (const counter of COUNTERS) {
    const field = counter.field;
    new Counter({
      name: named(counter.name),
      help: counter.help,
      labelNames: providerLabels,
      registers,
      collect() {
        const current = read();
        this.reset();
        if (!perProvider) {
          let sum = 0;
          for (const series of current.series()) sum += series[field];
          this.inc(sum);
          return;
        }
        for (const series of current.series()) this.inc(series.labels, series[field]);
      },
    });
  }

  new Gauge({
    name: named('cache_hit_ratio'),
    help: 'Share of calls served from the cache since start (0 before any call).',
    registers,
    collect() {
      const { hits, misses } = read();
      this.set(hits + misses === 0 ? 0 : hits / (hits + misses));
    },
  });
  new Gauge({
    name: named('tokens_cached'),
    help: 'Providers that hold a token.',
    registers,
    collect() {
      this.set(read().tokensCached);
    },
  });
  if (perProvider) {
    const perSeries = (value: (series: LabelSeries) => number | null) =>
      function (this: Gauge) {
        this.reset();
        for (const series of read().series()) {
          const figure = value(series);
          if (figure !== null) this.set(series.labels, figure);
        }
      };
    new Gauge({
      name: named('token_expires_in_seconds'),
      help: 'Seconds until the cached token expires (negative once expired); absent with no token.',
      labelNames: ['provider'],
      registers,
      collect: perSeries((series) => (series.expiresInMs === null ? null : series.expiresInMs / 1000)),
    });
    new Gauge({
      name: named('provider_degraded'),
      help: '1 while the last refresh of the provider failed, else 0.',
      labelNames: ['provider'],
      registers,
      collect: perSeries((series) => (series.degraded ? 1 : 0)),
    });
  }

  const durations = new Histogram({
    name: named('refresh_duration_seconds'),
    help: 'Time to obtain a new token; background = no caller waited for it.',
    labelNames: [...providerLabels, 'background'],
    buckets: [...(options.refreshDurationBuckets ?? REFRESH_DURATION_BUCKETS_SECONDS)],
    registers,
  });
  const onRefreshed = ({ provider, durationMs, background }: TokenEventMap['refreshed'][0]) => {
    // The event names the cache entry (`graph (tenant=a)` for a variant); the label is its provider.
    const labelSet = perProvider
      ? { provider: labels.labelOf(provider), background: String(background) }
      : { background: String(background) };
    durations.observe(labelSet, durationMs / 1000);
  };
  source.events.on('refreshed', onRefreshed);

  return {
    unregister() {
      source.events.off('refreshed', onRefreshed);
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
