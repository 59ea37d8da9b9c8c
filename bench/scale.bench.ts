import { performance } from 'node:perf_hooks';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import type { TokenStrategy } from '../libs/token/src/core/token-strategy.interface.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { elapsedNs, median, sleep } from './support/stats.js';
import { heapUsed } from './support/heap.js';

const SCENARIO = 'providers at scale';
const HOUR = 3_600_000;

/**
 * A provider with no I/O, as found in a process that has run for a while: one-hour tokens issued
 * up to 50 minutes ago, spread evenly over the providers, so refresh instants fall all through the
 * next hour (about 30 a second at 100,000 providers) and the timer keeps firing.
 */
class IdleStrategy implements TokenStrategy {
  readonly cacheKey: string;
  constructor(
    private readonly index: number,
    private readonly providers: number,
  ) {
    this.cacheKey = `idle:${index}`;
  }
  async generate(): Promise<TokenInfo> {
    const now = Date.now();
    const issuedAt = now - Math.floor((this.index / this.providers) * 50 * 60_000);
    return new TokenInfo({ token: `tok-${this.index}-${now}`, issuedAt, expiresAt: issuedAt + HOUR });
  }
}

async function serviceWith(providers: number, cached: boolean): Promise<TokenService> {
  const service = new TokenService();
  for (let i = 0; i < providers; i++) service.register(`p${i}`, new IdleStrategy(i, providers));
  if (cached) for (let i = 0; i < providers; i++) await service.getToken(`p${i}`);
  return service;
}

/** Median wall time of `task` over `runs` runs, in microseconds. */
function timeUs(task: () => unknown, runs: number): number {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = process.hrtime.bigint();
    task();
    samples.push(elapsedNs(start) / 1000);
  }
  return median(samples);
}

/** What returning N provider records costs at the least: building N plain objects of the same shape. */
function bareRecords(providers: number): Record<string, object> {
  const records: Record<string, object> = {};
  for (let i = 0; i < providers; i++) {
    records[`p${i}`] = {
      cached: true,
      state: 'fresh',
      expiresIn: i,
      isExpired: false,
      isNearExpiry: false,
      lastRefreshAt: i,
      lastRefreshDurationMs: 0,
      consecutiveFailures: 0,
      degraded: false,
      hits: i,
      misses: 0,
      refreshes: 1,
      failures: 0,
      fallbacks: 0,
      unauthorizedRetries: 0,
    };
  }
  return records;
}

/**
 * Idle cost and per-provider cost: event-loop utilisation with 100,000 providers and no traffic
 * (registered only, then with a cached token each, refresh instants spread over the hour); one
 * sweep and one `getStats()` at 1,000 / 10,000 / 100,000 providers (the latter against building the
 * same number of plain records); heap per provider.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const idleMs = pick(options, 5_000, 2_000);
  const large = 100_000;
  const rows: ResultRow[] = [];
  const detail: Record<string, unknown> = { idleMs };

  await (await serviceWith(1_000, true)).onApplicationShutdown(); // warm-up: JIT code is heap too
  const before = heapUsed();
  const service = await serviceWith(large, false);
  const registeredBytes = heapUsed() - before;
  for (const cached of [false, true]) {
    if (cached) for (let i = 0; i < large; i++) await service.getToken(`p${i}`);
    const bytes = cached ? heapUsed() - before : registeredBytes;
    await Promise.all(service.refreshDue(30_000)); // one sweep, as the cron job would run
    await sleep(200); // settle what setup left behind
    const start = performance.eventLoopUtilization();
    await sleep(idleMs);
    await Promise.all(service.refreshDue(30_000)); // and one more inside the window
    const elu = performance.eventLoopUtilization(start).utilization;
    const label = cached ? 'with a cached token each' : 'registered, never used';
    rows.push(
      {
        scenario: SCENARIO,
        subject: 'nest-token-manager',
        figure: `event-loop utilisation, 100,000 providers ${label}, no traffic`,
        value: elu * 100,
        unit: '%',
        target: '< 2 %',
        met: elu < 0.02,
        note: `over ${idleMs / 1000} s, timers and two sweeps included`,
      },
      {
        scenario: SCENARIO,
        subject: 'nest-token-manager',
        figure: `heap per provider, ${label}`,
        value: bytes / large,
        unit: 'B',
        note: `${(bytes / 2 ** 20).toFixed(1)} MiB for 100,000 (strategy and names included)`,
      },
    );
    detail[cached ? 'cachedBytes' : 'registeredBytes'] = bytes;
  }
  await service.onApplicationShutdown();

  for (const providers of [1_000, 10_000, 100_000]) {
    const service = await serviceWith(providers, true);
    const runs = providers >= 100_000 ? pick(options, 9, 3) : pick(options, 31, 9);
    const sweepUs = timeUs(() => service.refreshDue(30_000), runs);
    const statsUs = timeUs(() => service.getStats(), runs);
    const bareUs = timeUs(() => bareRecords(providers), runs);
    const n = providers.toLocaleString('en-US');
    rows.push(
      {
        scenario: SCENARIO,
        subject: 'nest-token-manager',
        figure: `one sweep, ${n} providers with fresh tokens`,
        value: sweepUs,
        unit: 'µs',
        note: 'takes only the due entries from the schedule',
      },
      {
        scenario: SCENARIO,
        subject: 'nest-token-manager',
        figure: `getStats(), ${n} providers, vs building ${n} plain records`,
        value: statsUs / bareUs,
        unit: '×',
        ...(providers === 100_000
          ? { target: '≈ 1 (costs what it returns)', met: statsUs / bareUs < 3 }
          : {}),
        note: `${Math.round(statsUs).toLocaleString('en-US')} µs; plain records ${Math.round(bareUs).toLocaleString('en-US')} µs`,
      },
    );
    detail[`p${providers}`] = { sweepUs, statsUs, bareUs };
    await service.onApplicationShutdown();
  }
  return { scenario: SCENARIO, rows, detail };
}
