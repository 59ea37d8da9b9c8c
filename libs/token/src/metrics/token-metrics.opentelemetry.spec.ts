import { describe, expect, it } from '@jest/globals';
import { StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import { TokenService } from '../module/token.service.js';
import { observeTokenMetrics, PROVIDER_ATTRIBUTE, type MeterLike } from './token-metrics.opentelemetry.js';
import { tokenMetricsSnapshot } from './token-metrics.snapshot.js';

type Observation = { instrument: string; value: number; attributes?: Record<string, string | boolean> };

/** A Meter that keeps what it is given, shaped like `@opentelemetry/api`'s. */
function recordingMeter() {
  const callbacks = new Set<Parameters<MeterLike['addBatchObservableCallback']>[0]>();
  const records: Observation[] = [];
  const instrument = (name: string) => ({ name });
  const meter: MeterLike = {
    createObservableCounter: instrument,
    createObservableGauge: instrument,
    createHistogram: (name) => ({
      record: (value, attributes) => records.push({ instrument: name, value, attributes }),
    }),
    addBatchObservableCallback: (callback) => callbacks.add(callback),
    removeBatchObservableCallback: (callback) => callbacks.delete(callback),
  };
  const collect = () => {
    const observations: Observation[] = [];
    for (const callback of callbacks) {
      callback({
        observe: (target, value, attributes) =>
          observations.push({ instrument: (target as { name: string }).name, value, attributes }),
      });
    }
    return observations;
  };
  return { meter, collect, records, callbacks };
}

async function warmService() {
  const clock = new ManualClock(1_700_000_000_000);
  const service = new TokenService({ clock, random: () => 0 });
  service.register('kling', new StubStrategy(clock, 30 * 60_000));
  await service.getToken('kling');
  await service.getToken('kling');
  return service;
}

describe('observeTokenMetrics (OpenTelemetry)', () => {
  it('observes counters and gauges per provider and records refresh durations', async () => {
    const { meter, collect, records } = recordingMeter();
    const clock = new ManualClock(1_700_000_000_000);
    const service = new TokenService({ clock, random: () => 0 });
    service.register('kling', new StubStrategy(clock, 30 * 60_000));
    observeTokenMetrics(service, meter);
    await service.getToken('kling');
    await service.getToken('kling');

    const observations = collect();
    const find = (instrument: string) =>
      observations.find((observation) => observation.instrument === instrument);
    expect(find('token.cache.hits')).toEqual({
      instrument: 'token.cache.hits',
      value: 1,
      attributes: { [PROVIDER_ATTRIBUTE]: 'kling' },
    });
    expect(find('token.cache.misses')?.value).toBe(1);
    expect(find('token.cache.hit_ratio')?.value).toBe(0.5);
    expect(find('token.cached')?.value).toBe(1);
    expect(find('token.refreshes')?.value).toBe(1);
    expect(find('token.refresh.failures')?.value).toBe(0);
    expect(find('token.degraded')?.value).toBe(0);
    expect(records).toEqual([
      {
        instrument: 'token.refresh.duration',
        value: 0,
        attributes: { [PROVIDER_ATTRIBUTE]: 'kling', 'token.background': false },
      },
    ]);
    const token = service.getTokenInfo('kling')!.token;
    expect(JSON.stringify(observations)).not.toContain(token);
  });

  it('stops reporting when the returned function is called', async () => {
    const { meter, callbacks } = recordingMeter();
    const service = await warmService();
    const stop = observeTokenMetrics(service, meter);
    stop();
    expect(callbacks.size).toBe(0);
    expect(service.events.listenerCount('refreshed')).toBe(0);
  });
});

describe('tokenMetricsSnapshot', () => {
  it('turns getStats() into plain numbers with no token in them', async () => {
    const service = await warmService();
    const snapshot = tokenMetricsSnapshot(service);
    expect(snapshot).toMatchObject({
      tokensCached: 1,
      hits: 1,
      misses: 1,
      hitRate: 0.5,
      refreshes: 1,
      refreshFailures: 0,
    });
    expect(snapshot.providers.kling).toMatchObject({
      hits: 1,
      misses: 1,
      hitRate: 0.5,
      degraded: 0,
      expiresInSeconds: 1800,
    });
    expect(JSON.stringify(snapshot)).not.toContain(service.getTokenInfo('kling')!.token);
  });
});
