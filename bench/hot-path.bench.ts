import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import {
  azureTokenCycler,
  badgatewayOAuth2Fetch,
  googleOAuth2Client,
  simpleOAuth2Cached,
  type TokenClient,
} from './support/alternatives.js';
import { collectGarbage, compileBatchLoop, compileSampleLoop } from './support/call-loops.js';
import { clientCredentialsStrategy } from './support/client-credentials.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { elapsedNs, median, percentile, rotate } from './support/stats.js';
import { LoopbackTokenEndpoint } from './support/token-endpoint.js';

const SCENARIO = 'hot path';
const BARE = 'bare Map lookup (limit)';
const OURS = 'nest-token-manager getToken';

/**
 * Cached `getToken` against a bare `Map` lookup returning an already-resolved promise, and against the
 * cache-hit path of other libraries. Every subject runs once per round, in a rotating order; a
 * subject's figure is the median over rounds of its speed divided by the bare lookup's speed in the
 * same round, so load on the machine cancels out as long as it is steady for one round.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const rounds = pick(options, 21, 7);
  const callsPerBatch = pick(options, 200_000, 50_000);
  const samplesPerRound = pick(options, 20_000, 5_000);

  const endpoint = await new LoopbackTokenEndpoint({ expiresInSeconds: 3600, latencyMs: 0 }).start();
  const subjects = await buildSubjects(endpoint);
  for (const subject of subjects) await subject.getToken(); // fill every cache from the endpoint

  const loops = subjects.map((subject) => ({
    subject,
    batch: compileBatchLoop(subject.getToken),
    sample: compileSampleLoop(subject.getToken),
  }));
  // Warm-up: let the JIT settle every loop before anything is timed.
  for (const loop of loops) await loop.batch(callsPerBatch);

  const opsPerSecond = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const ratios = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const latenciesNs = new Map<string, number[]>(subjects.map((s) => [s.name, []]));
  const buffer = new Float64Array(samplesPerRound);

  for (let round = 0; round < rounds; round++) {
    const speeds = new Map<string, number>();
    for (const loop of rotate(loops, round)) {
      collectGarbage();
      const start = process.hrtime.bigint();
      await loop.batch(callsPerBatch);
      speeds.set(loop.subject.name, callsPerBatch / (elapsedNs(start) / 1e9));
    }
    const bare = speeds.get(BARE)!;
    for (const [name, speed] of speeds) {
      opsPerSecond.get(name)!.push(speed);
      ratios.get(name)!.push(speed / bare);
    }
    for (const loop of rotate(loops, round)) {
      collectGarbage();
      await loop.sample(samplesPerRound, buffer);
      latenciesNs.get(loop.subject.name)!.push(...buffer);
    }
  }
  await endpoint.stop();
  subjects.forEach((subject) => subject.close?.());

  const rows: ResultRow[] = [];
  for (const subject of subjects) {
    const ratio = median(ratios.get(subject.name)!);
    const isOurs = subject.name === OURS;
    const latencies = latenciesNs.get(subject.name)!;
    const p99Us = percentile(latencies, 0.99) / 1000;
    rows.push(
      {
        scenario: SCENARIO,
        subject: subject.name,
        figure: 'speed vs bare lookup',
        value: ratio,
        unit: '×',
        ...(isOurs ? { target: '≥ 0.9', met: ratio >= 0.9 } : {}),
        note: `${Math.round(median(opsPerSecond.get(subject.name)!)).toLocaleString('en-US')} ops/s (median)`,
      },
      {
        scenario: SCENARIO,
        subject: subject.name,
        figure: 'p50 latency',
        value: percentile(latencies, 0.5) / 1000,
        unit: 'µs',
      },
      {
        scenario: SCENARIO,
        subject: subject.name,
        figure: 'p99 latency',
        value: p99Us,
        unit: 'µs',
        ...(isOurs ? { target: '< 10 µs', met: p99Us < 10 } : {}),
      },
    );
  }
  return {
    scenario: SCENARIO,
    rows,
    detail: {
      rounds,
      callsPerBatch,
      samplesPerRound,
      method:
        'awaited calls; per-round speed ratio to the bare lookup, median over rounds; latency per call incl. one await',
      ratiosPerRound: Object.fromEntries(ratios),
      opsPerSecondPerRound: Object.fromEntries(opsPerSecond),
    },
  };
}

async function buildSubjects(endpoint: LoopbackTokenEndpoint): Promise<TokenClient[]> {
  // The limit: what a cache hit costs when it does nothing but find an already-resolved promise.
  const info = new TokenInfo({ token: 'bare-token', expiresAt: Date.now() + 3_600_000 });
  const bareMap = new Map([['bench', Promise.resolve(info)]]);
  const bare: TokenClient = { name: BARE, singleFlight: true, getToken: () => bareMap.get('bench')! };

  const service = new TokenService();
  const { strategy } = await clientCredentialsStrategy(endpoint.tokenUrl);
  service.register('bench', strategy);
  const ours: TokenClient = { name: OURS, singleFlight: true, getToken: () => service.getToken('bench') };
  const oursString: TokenClient = {
    name: 'nest-token-manager getTokenString',
    singleFlight: true,
    getToken: () => service.getTokenString('bench'),
  };

  return [
    bare,
    ours,
    oursString,
    await azureTokenCycler(endpoint.tokenUrl),
    badgatewayOAuth2Fetch(endpoint.origin),
    simpleOAuth2Cached(endpoint.origin),
    googleOAuth2Client(endpoint.tokenUrl),
  ];
}
