import { describe, expect, it, jest } from '@jest/globals';
import { Counter, Gauge, Registry } from 'prom-client';
import { StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import { TokenService } from '../module/token.service.js';
import type { TokenRequestParameters, TokenStrategy } from '../core/token-strategy.interface.js';
import { registerTokenMetrics } from './token-metrics.prometheus.js';
import { monotonicSnapshotReader } from './token-metrics.providers.js';
import type { TokenMetricsSnapshot } from './token-metrics.types.js';

// The Prometheus collector keeps its series and per-entry state between scrapes instead of reading
// a `getStats()` record per provider: these tests pin that it exposes the same figures as the
// snapshot reader (the path it replaced, still used by OpenTelemetry), and that a scrape reads the
// entries themselves with label sets built once. Its speed is the bench's `scrape` scenario.

const MINUTE = 60_000;
const MAX_LABELS = 3;

class VariantStub extends StubStrategy {
  withParameters(parameters: TokenRequestParameters): TokenStrategy {
    const variant = new VariantStub(
      this.clock,
      this.lifetimeMs,
      `${this.cacheKey}:${JSON.stringify(parameters)}`,
    );
    variant.fail = this.fail;
    return variant;
  }
}

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

/** Every series of the counters and gauges as `name{provider}` → value (the histogram is event-fed, unchanged). */
function seriesOf(metrics: MetricJson[]): Map<string, number> {
  const series = new Map<string, number>();
  for (const metric of metrics) {
    if (String(metric.type) === 'histogram') continue;
    for (const value of metric.values as { value: number; labels: Record<string, string | number> }[]) {
      series.set(`${metric.name}{${value.labels.provider ?? ''}}`, value.value);
    }
  }
  return series;
}

/** What the collector exposed before, computed from a snapshot of the `getStats()` reader. */
function expectedSeries(snapshot: TokenMetricsSnapshot, perProvider: boolean): Map<string, number> {
  const series = new Map<string, number>();
  const p = 'token_manager_';
  series.set(`${p}cache_hit_ratio{}`, snapshot.hitRate);
  series.set(`${p}tokens_cached{}`, snapshot.tokensCached);
  const counters = [
    ['cache_hits_total', 'hits'],
    ['cache_misses_total', 'misses'],
    ['refreshes_total', 'refreshes'],
    ['refresh_failures_total', 'refreshFailures'],
    ['fallbacks_served_total', 'fallbacksServed'],
    ['unauthorized_retries_total', 'unauthorizedRetries'],
  ] as const;
  for (const [name, field] of counters) {
    if (!perProvider) {
      series.set(`${p}${name}{}`, snapshot[field]);
      continue;
    }
    for (const [provider, figures] of Object.entries(snapshot.providers)) {
      series.set(`${p}${name}{${provider}}`, figures[field]);
    }
  }
  if (perProvider) {
    for (const [provider, figures] of Object.entries(snapshot.providers)) {
      if (figures.expiresInSeconds !== null)
        series.set(`${p}token_expires_in_seconds{${provider}}`, figures.expiresInSeconds);
      series.set(`${p}provider_degraded{${provider}}`, figures.degraded);
    }
  }
  return series;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('Prometheus scrape: series kept between scrapes', () => {
  it.each([
    ['per provider, TokenService walked', true, false],
    ['per provider, a source with getStats() only', true, true],
    ['totals only', false, false],
  ])(
    'exposes the same figures as the getStats() snapshot reader (%s), scrape after scrape',
    async (_name, perProvider, statsOnly) => {
      const clock = new ManualClock(1_700_000_000_000);
      const service = new TokenService({ clock, random: () => 0, maxVariantsPerProvider: 4 });
      const graph = new VariantStub(clock, 30 * MINUTE, 'graph');
      service.register('graph', graph);
      service.register('kling (tenant=x)', new StubStrategy(clock, 30 * MINUTE, 'odd-name'));
      for (let i = 0; i < 6; i++)
        service.register(`tenant-${i}`, new StubStrategy(clock, 10 * MINUTE, `t${i}`));
      const source = statsOnly
        ? {
            getStats: () => service.getStats(),
            providerNames: () => service.providerNames(),
            events: service.events,
          }
        : service;
      const registry = new Registry();
      registerTokenMetrics(source, registry, { maxProviders: MAX_LABELS, perProvider });
      // The reference: the reader the collector used before, fed the same events in the same order.
      const reference = monotonicSnapshotReader(service, MAX_LABELS);
      service.events.on('refreshed', ({ provider }) => reference.labelOf(provider));

      const steps: (() => Promise<unknown>)[] = [
        () => service.getToken('graph'),
        () => service.getToken('kling (tenant=x)'),
        async () => {
          for (let i = 0; i < 6; i++) await service.getToken(`tenant-${i}`);
        },
        async () => {
          // More tenants than the service keeps: variants are dropped, then re-created from zero.
          for (let i = 0; i < 10; i++) await service.getToken('graph', { tenant: `t${i % 7}` });
        },
        async () => {
          graph.fail = new Error('endpoint down');
          await service.refreshToken('graph').catch(() => undefined);
          await service.getToken('graph', { scope: 'fresh' }).catch(() => undefined);
          graph.fail = undefined;
          service.recordUnauthorizedRetry('tenant-1');
        },
        async () => {
          clock.advance(12 * MINUTE); // the tenants' tokens expire
          await service.getToken('tenant-4');
        },
        async () => {
          service.unregister('tenant-0');
          for (let i = 0; i < 10; i++) await service.getToken('graph', { tenant: `t${(i * 3) % 9}` });
        },
        async () => {
          service.register('tenant-0', new StubStrategy(clock, 10 * MINUTE, 'back'));
          await service.getToken('tenant-0');
        },
      ];
      for (const step of steps) {
        await step();
        await nextTurn();
        const exposed = seriesOf(await registry.getMetricsAsJSON());
        expect(exposed).toEqual(expectedSeries(reference.read(), perProvider));
      }
      await service.onApplicationShutdown();
    },
  );

  it('row 3: a scrape builds no record per provider and hands prom-client the same label sets every time', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const service = new TokenService({ clock, random: () => 0 });
    for (let i = 0; i < 20; i++) service.register(`p${i}`, new StubStrategy(clock, 30 * MINUTE, `p${i}`));
    for (let i = 0; i < 20; i++) await service.getToken(`p${i}`);
    const registry = new Registry();
    registerTokenMetrics(service, registry, { maxProviders: 10 });
    const getStats = jest.spyOn(service, 'getStats');
    // Every label set the collectors hand to prom-client's inc() / set().
    const handed: unknown[] = [];
    const spies = (await registry.getMetricsAsJSON())
      .filter((metric) => String(metric.type) !== 'histogram')
      .map((metric) => {
        const instance = registry.getSingleMetric(metric.name) as Counter | Gauge;
        const method = instance instanceof Counter ? 'inc' : 'set';
        const original = (instance as unknown as Record<string, (...args: unknown[]) => void>)[method];
        const spy = jest.fn((...args: unknown[]) => {
          if (typeof args[0] === 'object') handed.push(args[0]);
          return original.apply(instance, args);
        });
        (instance as unknown as Record<string, unknown>)[method] = spy;
        return () => ((instance as unknown as Record<string, unknown>)[method] = original);
      });
    await nextTurn();
    getStats.mockClear();
    try {
      await registry.metrics();
      const first = handed.splice(0);
      await nextTurn();
      await service.getToken('p3');
      await registry.metrics();
      const second = handed.splice(0);

      expect(getStats).not.toHaveBeenCalled(); // before: a record per provider on every scrape
      expect(first).toHaveLength(11 * 8); // 10 providers + overflow, 6 counters and 2 gauges
      expect(second).toHaveLength(first.length);
      second.forEach((labels, index) => expect(labels).toBe(first[index])); // built once
    } finally {
      getStats.mockRestore();
      spies.forEach((restore) => restore());
      await service.onApplicationShutdown();
    }
  });
});
