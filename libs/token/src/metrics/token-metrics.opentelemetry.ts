import type { TokenEventMap } from '../core/token.events.js';
import { monotonicSnapshotReader } from './token-metrics.providers.js';
import { type ProviderMetricsSnapshot, type TokenMetricsSource } from './token-metrics.types.js';

/*
 * The slice of `@opentelemetry/api`'s `Meter` this module uses, written out so the library needs no
 * OpenTelemetry package: pass `metrics.getMeter('nest-token-manager')` and it fits.
 */
type Attributes = Record<string, string | boolean>;
/** An OpenTelemetry observable instrument, as `@opentelemetry/api` defines it (opaque here). */
export type ObservableInstrument = object;
/** The part of `@opentelemetry/api`'s `Meter` used here. @publicApi */
export interface MeterLike {
  createObservableCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): ObservableInstrument;
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): ObservableInstrument;
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string },
  ): { record(value: number, attributes?: Attributes): void };
  addBatchObservableCallback(
    callback: (observer: {
      observe(instrument: ObservableInstrument, value: number, attributes?: Attributes): void;
    }) => void,
    instruments: ObservableInstrument[],
  ): void;
  removeBatchObservableCallback(
    callback: (observer: {
      observe(instrument: ObservableInstrument, value: number, attributes?: Attributes): void;
    }) => void,
    instruments: ObservableInstrument[],
  ): void;
}

/** Attribute that names the provider; nothing else identifies a series. */
export const PROVIDER_ATTRIBUTE = 'token.provider';

type CounterField =
  'hits' | 'misses' | 'refreshes' | 'refreshFailures' | 'fallbacksServed' | 'unauthorizedRetries';

const COUNTERS: readonly { name: string; description: string; field: CounterField }[] = [
  { name: 'token.cache.hits', description: 'Calls served from the in-process cache.', field: 'hits' },
  { name: 'token.cache.misses', description: 'Calls that waited for a token.', field: 'misses' },
  { name: 'token.refreshes', description: 'Tokens obtained.', field: 'refreshes' },
  { name: 'token.refresh.failures', description: 'Refreshes that failed.', field: 'refreshFailures' },
  {
    name: 'token.fallbacks',
    description: 'Calls served the cached token while refreshes failed.',
    field: 'fallbacksServed',
  },
  {
    name: 'token.unauthorized_retries',
    description: 'HTTP requests retried after a 401.',
    field: 'unauthorizedRetries',
  },
];

/**
 * Reports a `TokenService`'s figures through an OpenTelemetry `Meter`: observable counters and gauges
 * read from `getStats()` at each collection, and a `token.refresh.duration` histogram (seconds) fed by
 * `refreshed` events. Attributes: `token.provider` (and `token.background` on the histogram) only;
 * per-call variants are summed into their provider, and providers past `maxProviders` (default 500)
 * share `token.provider="__overflow__"`.
 * Returns a function that stops reporting.
 *
 * @publicApi
 * @example
 * import { metrics } from '@opentelemetry/api';
 * observeTokenMetrics(app.get(TokenService), metrics.getMeter('nest-token-manager'));
 */
export function observeTokenMetrics(
  source: TokenMetricsSource,
  meter: MeterLike,
  options: { maxProviders?: number } = {},
): () => void {
  const reader = monotonicSnapshotReader(source, options.maxProviders);
  const counters = COUNTERS.map((counter) => ({
    ...counter,
    instrument: meter.createObservableCounter(counter.name, { description: counter.description }),
  }));
  const hitRatio = meter.createObservableGauge('token.cache.hit_ratio', {
    description: 'Share of calls served from the cache.',
    unit: '1',
  });
  const cached = meter.createObservableGauge('token.cached', { description: 'Providers that hold a token.' });
  const expiresIn = meter.createObservableGauge('token.expires_in', {
    description: 'Time until the cached token expires.',
    unit: 's',
  });
  const degraded = meter.createObservableGauge('token.degraded', {
    description: '1 while the last refresh failed.',
  });
  const durations = meter.createHistogram('token.refresh.duration', {
    description: 'Time to obtain a new token.',
    unit: 's',
  });

  const observe: Parameters<MeterLike['addBatchObservableCallback']>[0] = (observer) => {
    const snapshot = reader.read();
    observer.observe(hitRatio, snapshot.hitRate);
    observer.observe(cached, snapshot.tokensCached);
    for (const [provider, figures] of Object.entries(snapshot.providers) as [
      string,
      ProviderMetricsSnapshot,
    ][]) {
      const attributes = { [PROVIDER_ATTRIBUTE]: provider };
      for (const counter of counters)
        observer.observe(counter.instrument, figures[counter.field], attributes);
      if (figures.expiresInSeconds !== null)
        observer.observe(expiresIn, figures.expiresInSeconds, attributes);
      observer.observe(degraded, figures.degraded, attributes);
    }
  };
  const instruments = [
    hitRatio,
    cached,
    expiresIn,
    degraded,
    ...counters.map((counter) => counter.instrument),
  ];
  meter.addBatchObservableCallback(observe, instruments);

  const onRefreshed = ({ provider, durationMs, background }: TokenEventMap['refreshed'][0]) =>
    durations.record(durationMs / 1000, {
      [PROVIDER_ATTRIBUTE]: reader.labelOf(provider),
      'token.background': background,
    });
  source.events.on('refreshed', onRefreshed);

  return () => {
    source.events.off('refreshed', onRefreshed);
    meter.removeBatchObservableCallback(observe, instruments);
  };
}
