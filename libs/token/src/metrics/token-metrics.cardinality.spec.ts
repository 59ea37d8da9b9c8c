import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import { TokenService } from '../module/token.service.js';
import type { TokenRequestParameters, TokenStrategy } from '../core/token-strategy.interface.js';
import { observeTokenMetrics, type MeterLike } from './token-metrics.opentelemetry.js';
import { registerTokenMetrics } from './token-metrics.prometheus.js';
import { tokenMetricsSnapshot } from './token-metrics.snapshot.js';

// Per-call tenants and scopes come from callers, not from the operator: whatever they pass, the
// number of metric series (and so memory and the size of /metrics) must stay that of the providers.

const DISTINCT_CALLS = 20_000;

/** A stub that takes per-call parameters, each giving a strategy (and a cache entry) of its own. */
class VariantStub extends StubStrategy {
  withParameters(parameters: TokenRequestParameters): TokenStrategy {
    return new VariantStub(this.clock, this.lifetimeMs, `${this.cacheKey}:${JSON.stringify(parameters)}`);
  }
}

function serviceWithTwoProviders() {
  const clock = new ManualClock(1_700_000_000_000);
  const service = new TokenService({ clock, random: () => 0 });
  service.register('graph', new VariantStub(clock, 30 * 60_000, 'graph'));
  service.register('kling (tenant=x)', new StubStrategy(clock, 30 * 60_000, 'odd-name'));
  return service;
}

async function callWithDistinctParameters(service: TokenService, from: number, count: number) {
  for (let i = from; i < from + count; i++) {
    await service.getToken('graph', i % 2 === 0 ? { tenant: `t${i}` } : { scope: [`s${i}`, 'read'] });
  }
}

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];
const seriesCount = (metrics: MetricJson[]) => metrics.reduce((sum, metric) => sum + metric.values.length, 0);
const providerLabels = (metrics: MetricJson[]) =>
  new Set(
    metrics.flatMap((metric) =>
      (metric.values as { labels: Record<string, unknown> }[])
        .map((value) => value.labels.provider)
        .filter((label) => label !== undefined),
    ),
  );

describe('metric labels stay bounded whatever per-call parameters callers pass', () => {
  it(`prom-client: ${DISTINCT_CALLS} distinct tenants/scopes add no series and no /metrics bytes`, async () => {
    const service = serviceWithTwoProviders();
    const registry = new Registry();
    registerTokenMetrics(service, registry);
    await service.getToken('kling (tenant=x)');
    await callWithDistinctParameters(service, 0, 10);
    const small = await registry.getMetricsAsJSON();
    const smallText = await registry.metrics();

    await callWithDistinctParameters(service, 10, DISTINCT_CALLS);
    await new Promise((resolve) => setImmediate(resolve)); // a later scrape: no shared snapshot
    const large = await registry.getMetricsAsJSON();
    const largeText = await registry.metrics();

    expect(providerLabels(large)).toEqual(new Set(['graph', 'kling (tenant=x)']));
    expect(seriesCount(large)).toBe(seriesCount(small));
    // Only the counter digits grow.
    expect(largeText.length).toBeLessThan(smallText.length + 1024);
    const refreshes = large.find((metric) => metric.name === 'token_manager_refreshes_total')!;
    const graph = refreshes.values.find((value) => value.labels.provider === 'graph');
    // Variants dropped by the service's LRU are still counted: the sum is every refresh.
    expect(graph?.value).toBeGreaterThanOrEqual(100);
    const histogramCount = (
      await registry.getSingleMetric('token_manager_refresh_duration_seconds')!.get()
    ).values
      .filter(
        (value) =>
          (value as { metricName?: string }).metricName === 'token_manager_refresh_duration_seconds_count' &&
          value.labels.provider === 'graph',
      )
      .reduce((sum, value) => sum + value.value, 0);
    expect(histogramCount).toBe(DISTINCT_CALLS + 10);
    await service.onApplicationShutdown();
  }, 60_000);

  it('OpenTelemetry: every observation and histogram record carries a provider name only', async () => {
    const service = serviceWithTwoProviders();
    const attributes = new Set<string>();
    const callbacks: Parameters<MeterLike['addBatchObservableCallback']>[0][] = [];
    const meter: MeterLike = {
      createObservableCounter: (name) => ({ name }),
      createObservableGauge: (name) => ({ name }),
      createHistogram: () => ({ record: (_value, attrs) => attributes.add(JSON.stringify(attrs)) }),
      addBatchObservableCallback: (callback) => callbacks.push(callback),
      removeBatchObservableCallback: () => undefined,
    };
    observeTokenMetrics(service, meter);
    await callWithDistinctParameters(service, 0, 2_000);
    for (const callback of callbacks) {
      callback({ observe: (_instrument, _value, attrs) => attributes.add(JSON.stringify(attrs ?? {})) });
    }
    const providers = new Set([...attributes].map((text) => JSON.parse(text)['token.provider']));
    providers.delete(undefined);
    expect(providers).toEqual(new Set(['graph', 'kling (tenant=x)']));
    expect(attributes.size).toBeLessThanOrEqual(4);
    await service.onApplicationShutdown();
  });

  it('the snapshot sums variants into their provider', async () => {
    const service = serviceWithTwoProviders();
    await service.getToken('graph');
    await service.getToken('kling (tenant=x)');
    await callWithDistinctParameters(service, 0, 300);
    const snapshot = tokenMetricsSnapshot(service);
    expect(Object.keys(snapshot.providers).sort()).toEqual(['graph', 'kling (tenant=x)']);
    // The service keeps its 100 most recent variants; a one-off snapshot sums what it holds.
    const stats = service.getStats();
    expect(snapshot.providers.graph.misses).toBe(stats.misses - 1);
    expect(snapshot.providers.graph.refreshes).toBe(stats.refreshes - 1);
    expect(snapshot.misses).toBe(stats.misses);
    await service.onApplicationShutdown();
  });

  it('counters never go down while the service drops and re-creates variants', async () => {
    const service = serviceWithTwoProviders();
    const registry = new Registry();
    registerTokenMetrics(service, registry);
    let previous = 0;
    for (let round = 0; round < 6; round++) {
      // Round 3 comes back to the tenants of round 0: re-created entries start again from zero.
      await callWithDistinctParameters(service, (round % 3) * 150, 150);
      await new Promise((resolve) => setImmediate(resolve));
      const metrics = await registry.getMetricsAsJSON();
      const misses = metrics
        .find((metric) => metric.name === 'token_manager_cache_misses_total')!
        .values.find((value) => value.labels.provider === 'graph')!.value;
      expect(misses).toBeGreaterThanOrEqual(previous);
      previous = misses;
    }
    expect(previous).toBeGreaterThanOrEqual(600);
    await service.onApplicationShutdown();
  });

  it('providers past maxProviders share one overflow label', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const service = new TokenService({ clock, random: () => 0 });
    for (let i = 0; i < 50; i++) service.register(`tenant-${i}`, new StubStrategy(clock, 60_000, `c${i}`));
    const registry = new Registry();
    registerTokenMetrics(service, registry, { maxProviders: 3 });
    for (let i = 0; i < 50; i++) await service.getToken(`tenant-${i}`);
    await new Promise((resolve) => setImmediate(resolve));
    const metrics = await registry.getMetricsAsJSON();
    expect(providerLabels(metrics)).toEqual(new Set(['tenant-0', 'tenant-1', 'tenant-2', '__overflow__']));
    const misses = metrics.find((metric) => metric.name === 'token_manager_cache_misses_total')!;
    expect(misses.values.find((value) => value.labels.provider === '__overflow__')?.value).toBe(47);
    await service.onApplicationShutdown();
  });
});
