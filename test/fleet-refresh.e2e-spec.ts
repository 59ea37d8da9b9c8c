import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { FleetTokenEndpoint } from './support/fleet-token-endpoint.js';
import { eventually, ReplicaProcess, type ReplicaConfig } from './support/fleet-replicas.js';

// Replica processes and sleeps sized to token lifetimes: tens of seconds by design, more on a loaded
// 2-core machine. The scenario's own waits bound what it proves; this only stops a hung run.
jest.setTimeout(120_000);

/**
 * Replicas in their own processes (real TokenModule, real Redis store) sharing the Redis on
 * 127.0.0.1:6379 under a key prefix of their own, against one loopback token endpoint.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const encryptionKeys = [{ kid: 'fleet', key: randomBytes(32).toString('base64') }];

let replicas: ReplicaProcess[] = [];
let endpoint: FleetTokenEndpoint | undefined;

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => replica.kill())));
  replicas = [];
  await endpoint?.close();
  endpoint = undefined;
});

async function startFleet(
  count: number,
  tokenUrl: string,
  settings: { safetyMarginMs: number; redis: Partial<ReplicaConfig['redis']>; prefix: string },
): Promise<ReplicaProcess[]> {
  return Promise.all(
    Array.from({ length: count }, (_, index) =>
      ReplicaProcess.start({
        id: `replica-${index + 1}`,
        tokenUrl,
        safetyMarginMs: settings.safetyMarginMs,
        callIntervalMs: 20,
        // A generous command timeout: on a busy 2-core machine a slow reply must not look like an outage.
        redis: {
          url: REDIS_URL,
          keyPrefix: settings.prefix,
          encryptionKeys,
          commandTimeoutMs: 5_000,
          ...settings.redis,
        },
      }),
    ),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fleet mode (4 replica processes, one Redis)', () => {
  it('asks the token endpoint once per token lifetime for the whole fleet', async () => {
    const lifetimeMs = 4_000;
    const safetyMarginMs = 500;
    endpoint = new FleetTokenEndpoint(lifetimeMs);
    const tokenUrl = await endpoint.start();
    replicas = await startFleet(4, tokenUrl, {
      safetyMarginMs,
      redis: {},
      prefix: `ntm-fleet:${randomUUID()}:`,
    });

    await sleep(3 * lifetimeMs + 1_000);
    const reports = await Promise.all(replicas.map((replica) => replica.report()));

    for (const report of reports) {
      expect({ id: report.id, failures: report.failures, errors: report.errors }).toEqual({
        id: report.id,
        failures: 0,
        errors: [],
      });
      expect(report.expiredUses).toBe(0);
      expect(report.calls).toBeGreaterThan(100);
    }
    // A token is replaced 2 × margin before it expires, so it serves at least (lifetime − 2 × margin):
    // across the run the whole fleet fetches no more often than a single replica would.
    const { requests, tokens } = endpoint;
    const spanMs = requests[requests.length - 1].at - requests[0].at;
    const usedPerTokenMs = lifetimeMs - 2 * safetyMarginMs;
    expect(requests.length).toBeGreaterThanOrEqual(3);
    expect(requests.length).toBeLessThanOrEqual(Math.floor(spanMs / usedPerTokenMs) + 1);
    // Four replicas on their own would have fetched about four times as many.
    expect(requests.length * 2).toBeLessThan(4 * (Math.floor(spanMs / usedPerTokenMs) + 1));
    // Every token but the newest was used by more than one replica: shared, not fetched again.
    for (const token of tokens.slice(0, -1)) {
      expect(reports.filter((report) => report.tokens.includes(token)).length).toBeGreaterThan(1);
    }
    expect(new Set(reports.flatMap((report) => report.tokens))).toEqual(new Set(tokens));
  });

  it('survives the lock holder being killed mid-refresh: another replica takes over when the lease ends', async () => {
    // The takeover comes about 2 s after the kill; a 4 s margin (refresh from 8 s before expiry) leaves
    // the survivors' token seconds to spare however loaded the machine.
    const lifetimeMs = 16_000;
    const safetyMarginMs = 4_000;
    const leaseMs = 1_500;
    const prefix = `ntm-fleet:${randomUUID()}:`;
    endpoint = new FleetTokenEndpoint(lifetimeMs, new Set([2])); // the first refresh never gets an answer
    const tokenUrl = await endpoint.start();
    replicas = await startFleet(3, tokenUrl, {
      safetyMarginMs,
      redis: { leaseMs, waitForPeerMs: 10_000 },
      prefix,
    });

    const served = endpoint;
    const stalled = await eventually('the first refresh', () => served.requests[1], 30_000);
    const holder = replicas.find((replica) => replica.id === stalled.replica)!;
    await holder.kill();
    const survivors = replicas.filter((replica) => replica !== holder);

    const takeover = await eventually('a replica taking over', () => served.requests[2], 30_000);
    expect(survivors.map((replica) => replica.id)).toContain(takeover.replica);
    await eventually('every survivor on the new token', async () => {
      const reports = await Promise.all(survivors.map((replica) => replica.report()));
      return reports.every((report) => report.current === takeover.token) ? true : undefined;
    });

    const reports = await Promise.all(survivors.map((replica) => replica.report()));
    for (const report of reports) {
      expect({ id: report.id, failures: report.failures, errors: report.errors }).toEqual({
        id: report.id,
        failures: 0,
        errors: [],
      });
      expect(report.expiredUses).toBe(0);
      expect(report.tokens).toEqual(endpoint.tokens); // the first token, then the takeover's
    }
    expect(endpoint.requests).toHaveLength(3);

    const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const stored = await admin.get(`${prefix}token:fleet:api`);
      expect(stored).not.toBeNull();
      expect(stored).not.toContain(takeover.token);
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    } finally {
      await admin.quit();
    }
  });
});
