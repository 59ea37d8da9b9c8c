import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FleetMemberConfig, FleetMemberReport } from './support/fleet-member.js';
import { pick, type BenchOptions } from './support/options.js';
import { skippedRow, type ResultRow, type ScenarioResult } from './support/results.js';
import { LoopbackTokenEndpoint } from './support/token-endpoint.js';

const SCENARIO = 'fleet';
const REPLICAS = 4;
const LIFETIME_S = 2;
const ENDPOINT_LATENCY_MS = 50;
const REDIS = { host: '127.0.0.1', port: 6379 };
/** Resolved at run time: the store is written by another change and may not be in the build yet. */
const REDIS_STORE_MODULE = new URL('../libs/token/src/stores/redis-token.store.js', import.meta.url).href;

/**
 * Four processes share one provider through the Redis store (unique key prefix) under steady load for
 * several token lifetimes; the endpoint counts token requests from the whole fleet. The same fleet on
 * the in-memory store is the control: there every replica fetches its own tokens.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const lifetimes = pick(options, 8, 3);
  const unavailable = await redisStoreUnavailable();
  if (unavailable !== undefined) return { scenario: SCENARIO, rows: [skippedRow(SCENARIO, unavailable)] };

  const rows: ResultRow[] = [];
  const detail: Record<string, unknown> = { replicas: REPLICAS, lifetimeSeconds: LIFETIME_S, lifetimes };
  // The control (no sharing) only makes the point clearer; the quick run leaves it out.
  for (const store of pick(options, ['redis', 'memory'] as const, ['redis'] as const)) {
    const endpoint = await new LoopbackTokenEndpoint({
      expiresInSeconds: LIFETIME_S,
      latencyMs: ENDPOINT_LATENCY_MS,
    }).start();
    const config: FleetMemberConfig = {
      tokenUrl: endpoint.tokenUrl,
      durationMs: lifetimes * LIFETIME_S * 1000,
      store,
      redis: {
        storeModule: REDIS_STORE_MODULE,
        keyPrefix: `ntm-bench:${process.pid}:${Date.now().toString(36)}:`,
        encryptionKey: randomBytes(32).toString('base64'),
      },
    };
    const reports = await runFleet(config, () => endpoint.reset());
    const requests = endpoint.requests;
    await endpoint.stop();

    const perLifetime = requests / lifetimes;
    const sum = (field: (report: FleetMemberReport) => number) =>
      reports.reduce((total, report) => total + field(report), 0);
    const shared = store === 'redis';
    const subject = shared
      ? `nest-token-manager, ${REPLICAS} replicas, redis store`
      : `${REPLICAS} replicas, memory store (control)`;
    rows.push(
      {
        scenario: SCENARIO,
        subject,
        figure: 'token requests per lifetime (fleet)',
        value: perLifetime,
        ...(shared ? { target: '≈ 1 (≤ 2, as one process)', met: perLifetime <= 2 } : {}),
        note: `${requests} in ${lifetimes} lifetimes of ${LIFETIME_S} s`,
      },
      {
        scenario: SCENARIO,
        subject,
        figure: 'failed / waited / expired sends (after first token)',
        value: `${sum((r) => r.failed)} / ${sum((r) => r.waited)} / ${sum((r) => r.expiredSends)}`,
        note: `of ${sum((r) => r.calls).toLocaleString('en-US')} calls${reports.find((r) => r.firstError)?.firstError ? `; ${reports.find((r) => r.firstError)?.firstError}` : ''}`,
      },
    );
    detail[store] = { requests, reports };
  }
  return { scenario: SCENARIO, rows, detail };
}

/** Why the scenario cannot run here, or undefined when it can. */
async function redisStoreUnavailable(): Promise<string | undefined> {
  try {
    const module = (await import(REDIS_STORE_MODULE)) as Record<string, unknown>;
    if (typeof module.RedisTokenStore !== 'function')
      return 'redis store not available (no RedisTokenStore export)';
  } catch {
    return 'redis store not available (libs/token/src/stores/redis-token.store.ts not built)';
  }
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect(REDIS);
    socket.setTimeout(500, () => socket.destroy());
    socket.once('connect', () => (socket.end(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
  return reachable ? undefined : `redis not reachable at ${REDIS.host}:${REDIS.port}`;
}

/** Starts the replicas, waits until each is ready, starts them together and collects their reports. */
async function runFleet(config: FleetMemberConfig, beforeStart: () => void): Promise<FleetMemberReport[]> {
  const memberFile = fileURLToPath(new URL('./support/fleet-member.js', import.meta.url));
  const members: ChildProcess[] = Array.from({ length: REPLICAS }, () =>
    fork(memberFile, [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  try {
    await Promise.all(
      members.map(
        (member) =>
          new Promise<void>((resolve, reject) => {
            member.once('message', () => resolve());
            member.once('exit', (code) =>
              reject(new Error(`fleet replica exited with ${code} before it was ready`)),
            );
          }),
      ),
    );
    beforeStart();
    const reports = members.map(
      (member) =>
        new Promise<FleetMemberReport>((resolve, reject) => {
          member.once('message', (report) => resolve(report as FleetMemberReport));
          member.once('exit', (code) =>
            reject(new Error(`fleet replica exited with ${code} before reporting`)),
          );
        }),
    );
    members.forEach((member) => member.send('start'));
    return await Promise.all(reports);
  } finally {
    members.forEach((member) => member.connected && member.kill());
  }
}
