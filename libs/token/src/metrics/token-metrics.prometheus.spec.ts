import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { flushPromises, StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import { TokenService } from '../module/token.service.js';
import { registerTokenMetrics } from './token-metrics.prometheus.js';

const MINUTE = 60_000;

/**
 * A service that went through a cold miss, a hit, a forced refresh that failed (a second miss), a
 * fallback while the background retry failed too, and one 401 retry; its 30-minute token has 4 minutes left.
 */
async function busyService() {
  const clock = new ManualClock(1_700_000_000_000);
  const service = new TokenService({ clock, safetyMarginMs: 5 * MINUTE, random: () => 0 });
  const strategy = new StubStrategy(clock, 30 * MINUTE);
  service.register('kling', strategy);
  return {
    service,
    clock,
    strategy,
    async exercise() {
      await service.getToken('kling'); // miss + refresh
      await service.getToken('kling'); // hit
      strategy.fail = new Error('endpoint down');
      await expect(service.refreshToken('kling')).rejects.toThrow();
      clock.advance(26 * MINUTE); // inside the margin, token still valid: served as a fallback
      await service.getToken('kling');
      await flushPromises(); // the background retry fails too
      service.recordUnauthorizedRetry('kling');
    },
  };
}

type MetricJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

function valueOf(
  metrics: MetricJson[],
  name: string,
  labels: Record<string, string | number> = {},
): number | undefined {
  const metric = metrics.find((candidate) => candidate.name === name);
  const values = (metric?.values ?? []) as {
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
  }[];
  return values.find((value) =>
    Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
  )?.value;
}

describe('registerTokenMetrics (prom-client)', () => {
  it('exposes hits, misses, hit ratio, refreshes, failures, fallbacks, 401 retries and cached tokens', async () => {
    const { service, exercise } = await busyService();
    const registry = new Registry();
    registerTokenMetrics(service, registry);
    await exercise();

    const metrics = await registry.getMetricsAsJSON();
    const kling = { provider: 'kling' };
    expect(valueOf(metrics, 'token_manager_cache_hits_total', kling)).toBe(1);
    expect(valueOf(metrics, 'token_manager_cache_misses_total', kling)).toBe(2);
    expect(valueOf(metrics, 'token_manager_cache_hit_ratio')).toBeCloseTo(1 / 3);
    expect(valueOf(metrics, 'token_manager_tokens_cached')).toBe(1);
    expect(valueOf(metrics, 'token_manager_refreshes_total', kling)).toBe(1);
    expect(valueOf(metrics, 'token_manager_refresh_failures_total', kling)).toBe(2);
    expect(valueOf(metrics, 'token_manager_fallbacks_served_total', kling)).toBe(1);
    expect(valueOf(metrics, 'token_manager_unauthorized_retries_total', kling)).toBe(1);
    expect(valueOf(metrics, 'token_manager_provider_degraded', kling)).toBe(1);
    expect(valueOf(metrics, 'token_manager_token_expires_in_seconds', kling)).toBe(240);
  });

  it('records refresh latency in a histogram labelled by provider and background', async () => {
    const { service, clock, strategy } = await busyService();
    const registry = new Registry();
    registerTokenMetrics(service, registry);
    strategy.hold();
    const pending = service.getToken('kling');
    await flushPromises();
    clock.advance(120); // the token endpoint takes 120 ms
    strategy.release();
    await pending;

    const metrics = await registry.getMetricsAsJSON();
    const histogram = { provider: 'kling', background: 'false' };
    const count = (
      await registry.getSingleMetric('token_manager_refresh_duration_seconds')!.get()
    ).values.find(
      (value) =>
        (value as { metricName?: string }).metricName === 'token_manager_refresh_duration_seconds_count',
    );
    expect(count?.value).toBe(1);
    expect(count?.labels).toEqual(histogram);
    expect(valueOf(metrics, 'token_manager_refresh_duration_seconds', { ...histogram, le: 0.1 })).toBe(0);
    expect(valueOf(metrics, 'token_manager_refresh_duration_seconds', { ...histogram, le: 0.25 })).toBe(1);
  });

  it('never puts a token in a label or a value text', async () => {
    const { service, exercise } = await busyService();
    const registry = new Registry();
    registerTokenMetrics(service, registry);
    await exercise();
    const token = service.getTokenInfo('kling')!.token;

    const text = await registry.metrics();
    expect(text).not.toContain(token);
    expect(text).not.toContain('token-');
    const labels = (await registry.getMetricsAsJSON()).flatMap((metric) =>
      (metric.values as { labels: Record<string, string | number> }[]).map((value) => value.labels),
    );
    expect(labels.length).toBeGreaterThan(0);
    for (const { le, ...rest } of labels) {
      expect(le === undefined || typeof le === 'number' || le === '+Inf').toBe(true);
      expect(Object.keys(rest).every((key) => key === 'provider' || key === 'background')).toBe(true);
      expect(['kling', 'true', 'false']).toEqual(expect.arrayContaining(Object.values(rest) as string[]));
    }
  });

  it('drops the provider label when perProvider is false', async () => {
    const { service, exercise } = await busyService();
    const registry = new Registry();
    registerTokenMetrics(service, registry, { perProvider: false, prefix: 'tm_' });
    await exercise();

    const metrics = await registry.getMetricsAsJSON();
    expect(valueOf(metrics, 'tm_cache_hits_total')).toBe(1);
    expect(metrics.find((metric) => metric.name === 'tm_cache_hits_total')?.values[0].labels).toEqual({});
    expect(metrics.some((metric) => metric.name === 'tm_provider_degraded')).toBe(false);
  });

  it('unregister removes the metrics and the event listener', async () => {
    const { service } = await busyService();
    const registry = new Registry();
    const metrics = registerTokenMetrics(service, registry);
    expect(service.events.listenerCount('refreshed')).toBe(1);

    metrics.unregister();
    expect(service.events.listenerCount('refreshed')).toBe(0);
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    registerTokenMetrics(service, registry); // the names are free again
  });
});
