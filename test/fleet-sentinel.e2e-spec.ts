import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { RedisSentinelTopology } from './support/fleet-redis-topology.js';
import { FleetTokenEndpoint } from './support/fleet-token-endpoint.js';
import { eventually, ReplicaProcess, type ReplicaReport } from './support/fleet-replicas.js';

// Replica processes and sleeps sized to token lifetimes: tens of seconds by design, more on a loaded
// 2-core machine. The scenario's own waits bound what it proves; this only stops a hung run.
jest.setTimeout(120_000);

/**
 * Fleet mode behind Redis Sentinel (a master, a replica and 3 sentinels, started by the test):
 * 3 replica processes share tokens, and the master is SIGKILLed mid-run without a failed caller;
 * sharing resumes on the promoted replica.
 */
const encryptionKeys = [{ kid: 'sentinel', key: randomBytes(32).toString('base64') }];

let topology: RedisSentinelTopology;
let endpoint: FleetTokenEndpoint;
let replicas: ReplicaProcess[] = [];

// Beyond the start's own limits, so a failed start stops what it started before the suite moves on.
beforeAll(async () => {
  topology = await RedisSentinelTopology.start();
}, 90_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => replica.kill())));
  await endpoint?.close();
  await topology?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const reports = (): Promise<ReplicaReport[]> => Promise.all(replicas.map((replica) => replica.report()));
const onOneToken = async () => {
  const all = await reports();
  return all.every((report) => report.current !== undefined && report.current === all[0].current)
    ? all[0].current
    : undefined;
};

describe('fleet mode behind Redis Sentinel', () => {
  it('shares tokens and survives the master being killed', async () => {
    const lifetimeMs = 3_000;
    const safetyMarginMs = 300;
    endpoint = new FleetTokenEndpoint(lifetimeMs);
    const tokenUrl = await endpoint.start();
    replicas = await Promise.all(
      ['replica-1', 'replica-2', 'replica-3'].map((id) =>
        ReplicaProcess.start({
          id,
          tokenUrl,
          safetyMarginMs,
          callIntervalMs: 20,
          redis: {
            sentinel: {
              sentinels: topology.sentinels.map((port) => `127.0.0.1:${port}`),
              name: RedisSentinelTopology.NAME,
            },
            keyPrefix: 'ntm-sentinel:',
            encryptionKeys,
            budgetMs: 500,
            reconnectMaxDelayMs: 200,
          },
        }),
      ),
    );

    await sleep(2 * lifetimeMs);
    const shared = endpoint.requests.length;
    const spanMs = endpoint.requests[shared - 1].at - endpoint.requests[0].at;
    expect(shared).toBeLessThanOrEqual(Math.floor(spanMs / (lifetimeMs - 2 * safetyMarginMs)) + 1);
    await eventually('every replica on one token', onOneToken, 10_000);

    const requestsBefore = endpoint.requests.length;
    const killed = topology.master;
    await topology.kill(killed);
    await eventually(
      'the sentinels promoting the replica',
      async () => ((await topology.currentMaster()) === topology.replica ? true : undefined),
      20_000,
    );
    await sleep(lifetimeMs);
    await eventually('sharing resumed on the new master', onOneToken, 15_000);

    const final = await reports();
    for (const report of final) {
      expect({
        id: report.id,
        failures: report.failures,
        errors: report.errors,
        expired: report.expiredUses,
      }).toEqual({ id: report.id, failures: 0, errors: [], expired: 0 });
    }
    process.stdout.write(
      `sentinel failover: ${endpoint.requests.length - requestsBefore} token requests after the kill; ` +
        `slowest call ${Math.max(...final.map((report) => report.slowestCallMs))} ms\n`,
    );
  });
});
