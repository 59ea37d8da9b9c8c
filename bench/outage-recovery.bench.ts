import { TokenService } from '../libs/token/src/module/token.service.js';
import { clientCredentialsStrategy } from './support/client-credentials.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ScenarioResult } from './support/results.js';
import { yieldToLoop } from './support/stats.js';
import { benchTokenTimes, LoopbackTokenEndpoint } from './support/token-endpoint.js';

const SCENARIO = 'outage-recovery';
const LIFETIME_S = 6;
const DOWN_FROM_MS = 2_000;
const DOWN_UNTIL_MS = 5_000;
const CALL_EVERY_MS = 2; // 500 calls/s
const RUN_MS = 6_600; // past the first token's expiry
const ENDPOINT_LATENCY_MS = 20;
/** A request sent with a token reaches the API this much later; one that arrives expired is a 401. */
const API_LATENCY_MS = 5;

interface RunReport {
  calls: number;
  waited: number;
  failed: number;
  api401: number;
  attempts: number;
}

/**
 * One run: the endpoint answers 500 from 2 s to 5 s of a 6 s token's life while callers ask 500
 * times a second. The retries' last attempt must be due early enough to finish before the token
 * stops being handed out, so that the endpoint, back at 5 s, brings the next token before anyone
 * waits, and no token reaches the API expired.
 */
async function outageRun(): Promise<RunReport> {
  const endpoint = await new LoopbackTokenEndpoint({
    expiresInSeconds: LIFETIME_S,
    latencyMs: ENDPOINT_LATENCY_MS,
  }).start();
  const service = new TokenService();
  service.register('bench', (await clientCredentialsStrategy(endpoint.tokenUrl)).strategy);
  await service.getToken('bench');
  const startedAt = Date.now();
  const report: RunReport = { calls: 0, waited: 0, failed: 0, api401: 0, attempts: 0 };
  let turn = 0;
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const requestsBefore = endpoint.requests;
  const pending: Promise<void>[] = [];
  for (let next = startedAt; Date.now() - startedAt < RUN_MS; next += CALL_EVERY_MS) {
    const elapsed = Date.now() - startedAt;
    endpoint.mode = elapsed >= DOWN_FROM_MS && elapsed < DOWN_UNTIL_MS ? 'error-500' : 'ok';
    const turnBefore = turn;
    report.calls++;
    pending.push(
      service.getToken('bench').then(
        (info) => {
          if (turn !== turnBefore) report.waited++;
          const times = benchTokenTimes(info.token);
          if (times === undefined || Date.now() + API_LATENCY_MS >= times.expiresAt) report.api401++;
        },
        () => {
          report.failed++;
        },
      ),
    );
    while (Date.now() < next + CALL_EVERY_MS) await yieldToLoop();
  }
  await Promise.all(pending);
  ticking = false;
  report.attempts = endpoint.requests - requestsBefore;
  await service.onApplicationShutdown();
  await endpoint.stop();
  return report;
}

export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const runs = pick(options, 20, 3);
  const reports: RunReport[] = [];
  for (let i = 0; i < runs; i++) reports.push(await outageRun());
  const worst = (key: keyof RunReport) => Math.max(...reports.map((report) => report[key]));
  const subject = `nest-token-manager (6 s token, 500 from 2 s to 5 s, 500 calls/s; worst of ${runs} runs)`;
  const calls = Math.min(...reports.map((report) => report.calls));
  return {
    scenario: SCENARIO,
    rows: [
      {
        scenario: SCENARIO,
        subject,
        figure: 'blocked callers',
        value: worst('waited'),
        target: '0',
        met: worst('waited') === 0,
        note: `at least ${calls.toLocaleString('en-US')} calls per run; up to ${worst('attempts')} token requests per run`,
      },
      {
        scenario: SCENARIO,
        subject,
        figure: 'API 401s (token expired on arrival)',
        value: worst('api401'),
        target: '0',
        met: worst('api401') === 0,
        note: `a request reaches the API ${API_LATENCY_MS} ms after the token is handed out`,
      },
      {
        scenario: SCENARIO,
        subject,
        figure: 'failed callers',
        value: worst('failed'),
        target: '0',
        met: worst('failed') === 0,
      },
    ],
    detail: { runs: reports, lifetimeSeconds: LIFETIME_S, endpointLatencyMs: ENDPOINT_LATENCY_MS },
  };
}
