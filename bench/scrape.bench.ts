import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  REFRESH_DURATION_BUCKETS_SECONDS,
  registerTokenMetrics,
} from '../libs/token/src/metrics/token-metrics.prometheus.js';
import { DEFAULT_MAX_PROVIDER_LABELS } from '../libs/token/src/metrics/token-metrics.providers.js';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import type { TokenStrategy } from '../libs/token/src/core/token-strategy.interface.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { median, yieldToLoop } from './support/stats.js';

const SCENARIO = 'prometheus scrape';
const PROVIDERS = 100_000;
const HOUR = 3_600_000;

/** A provider with no I/O whose token lasts an hour. */
class LocalStrategy implements TokenStrategy {
  constructor(readonly cacheKey: string) {}
  async generate(): Promise<TokenInfo> {
    const now = Date.now();
    return new TokenInfo({ token: `tok-${this.cacheKey}-${now}`, issuedAt: now, expiresAt: now + HOUR });
  }
}

/**
 * How long one scrape holds the event loop: from the call to `registry.metrics()` to the first
 * `setImmediate` that can run after it (every collector runs in that one stretch).
 */
async function blockMs(registry: Registry): Promise<number> {
  const start = performance.now();
  let blocked = Number.NaN;
  setImmediate(() => (blocked = performance.now() - start));
  await registry.metrics();
  while (Number.isNaN(blocked)) await yieldToLoop();
  return blocked;
}

/**
 * The floor: prom-client alone, exposing the same series (the same metrics, the histogram included,
 * one label per provider up to the cap plus the overflow label) with values set directly, nothing
 * read from a service.
 */
function bareRegistry(labels: number): Registry {
  const registry = new Registry();
  const registers = [registry];
  const names = ['provider'];
  const values = Array.from({ length: labels }, (_, i) => ({ provider: `p${i}` }));
  values.push({ provider: '__overflow__' });
  for (const name of ['hits', 'misses', 'refreshes', 'failures', 'fallbacks', 'retries']) {
    new Counter({
      name: `bare_${name}_total`,
      help: name,
      labelNames: names,
      registers,
      collect() {
        this.reset();
        for (const [i, labelSet] of values.entries()) this.inc(labelSet, i);
      },
    });
  }
  for (const name of ['expires_in_seconds', 'degraded']) {
    new Gauge({
      name: `bare_${name}`,
      help: name,
      labelNames: names,
      registers,
      collect() {
        this.reset();
        for (const [i, labelSet] of values.entries()) this.set(labelSet, i);
      },
    });
  }
  for (const name of ['hit_ratio', 'tokens_cached']) {
    new Gauge({
      name: `bare_${name}`,
      help: name,
      registers,
      collect() {
        this.set(1);
      },
    });
  }
  // The refresh-duration histogram: one series per label (every token was fetched once, by a caller).
  const durations = new Histogram({
    name: 'bare_refresh_duration_seconds',
    help: 'durations',
    labelNames: ['provider', 'background'],
    buckets: [...REFRESH_DURATION_BUCKETS_SECONDS],
    registers,
  });
  for (const labelSet of values) durations.observe({ ...labelSet, background: 'false' }, 0.001);
  return registry;
}

/**
 * One Prometheus scrape (`registerTokenMetrics` with its defaults: per-provider labels, 500 of them,
 * the rest under `__overflow__`) of a service with 100,000 providers that each hold a token and have
 * served calls: how long the event loop is blocked per scrape, next to prom-client exposing the
 * same series with nothing to read (measured in the same run, rounds interleaved).
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const rounds = pick(options, 20, 6);
  const service = new TokenService();
  for (let i = 0; i < PROVIDERS; i++) service.register(`p${i}`, new LocalStrategy(`p${i}`));
  // Registered first, as in an application: every first token feeds the refresh-duration histogram.
  const registry = new Registry();
  registerTokenMetrics(service, registry);
  for (let i = 0; i < PROVIDERS; i++) await service.getToken(`p${i}`);
  const bare = bareRegistry(DEFAULT_MAX_PROVIDER_LABELS);
  for (let warm = 0; warm < 3; warm++) {
    await blockMs(registry);
    await blockMs(bare);
  }

  const scrapes: number[] = [];
  const bases: number[] = [];
  for (let round = 0; round < rounds; round++) {
    // Traffic between scrapes, as in a live process: counters move.
    for (let i = round; i < PROVIDERS; i += 97) await service.getToken(`p${i}`);
    // Alternating which goes first: the garbage of one scrape is not always collected in the other.
    if (round % 2 === 0) {
      scrapes.push(await blockMs(registry));
      bases.push(await blockMs(bare));
    } else {
      bases.push(await blockMs(bare));
      scrapes.push(await blockMs(registry));
    }
  }
  await service.onApplicationShutdown();

  const scrapeMs = median(scrapes);
  const worstMs = Math.max(...scrapes);
  const baseMs = median(bases);
  const rows: ResultRow[] = [
    {
      scenario: SCENARIO,
      subject: 'nest-token-manager',
      figure: 'event-loop block per scrape, 100,000 providers (median)',
      value: scrapeMs,
      unit: 'ms',
      target: '≤ 50 ms',
      met: scrapeMs <= 50,
      note: `worst of ${rounds}: ${worstMs.toFixed(1)} ms; prom-client alone, same series: ${baseMs.toFixed(1)} ms`,
    },
    {
      scenario: SCENARIO,
      subject: 'nest-token-manager',
      figure: 'scrape, 100,000 providers, vs prom-client alone exposing the same series',
      value: scrapeMs / baseMs,
      unit: '×',
      note: `${DEFAULT_MAX_PROVIDER_LABELS} provider labels + __overflow__; 10 metrics, the histogram included`,
    },
  ];
  return { scenario: SCENARIO, rows, detail: { rounds, scrapes, bases } };
}
