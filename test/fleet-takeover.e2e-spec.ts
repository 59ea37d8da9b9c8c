import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { FleetTokenEndpoint } from './support/fleet-token-endpoint.js';
import { eventually, ReplicaProcess } from './support/fleet-replicas.js';

// Replica processes and sleeps sized to token lifetimes: tens of seconds by design, more on a loaded
// 2-core machine. The scenario's own waits bound what it proves; this only stops a hung run.
jest.setTimeout(120_000);

/**
 * Takeover in seconds: the replica holding the refresh lease is SIGKILLed mid-refresh, with the
 * default lease settings. Another replica must fetch the next token within about the (short, renewed)
 * lease, and no caller of a replica still holding a valid token may wait on the dead one's lease.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const encryptionKeys = [{ kid: 'takeover', key: randomBytes(32).toString('base64') }];

let replicas: ReplicaProcess[] = [];
let endpoint: FleetTokenEndpoint | undefined;
const prefix = `ntm-takeover:${randomUUID()}:`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => replica.kill())));
  replicas = [];
  await endpoint?.close();
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

describe('fleet mode: the lease holder dies mid-refresh', () => {
  it('another replica has a new token about 2 s later; replicas holding a valid token never wait', async () => {
    // A margin of 6 s: the takeover (about 2 s after the kill) lands well inside it, before the
    // survivors' token expires, however loaded the machine.
    const lifetimeMs = 24_000;
    const safetyMarginMs = 6_000;
    endpoint = new FleetTokenEndpoint(lifetimeMs, new Set([2])); // the first refresh never gets an answer
    const tokenUrl = await endpoint.start();
    replicas = await Promise.all(
      ['replica-1', 'replica-2', 'replica-3'].map((id) =>
        ReplicaProcess.start({
          id,
          tokenUrl,
          safetyMarginMs,
          callIntervalMs: 20,
          // Default lease and peer wait; a roomy budget so a busy machine does not look like an outage.
          redis: { url: REDIS_URL, keyPrefix: prefix, encryptionKeys, budgetMs: 1_000 },
        }),
      ),
    );
    const served = endpoint;
    const stalled = await eventually('the first refresh', () => served.requests[1], 40_000);
    const holder = replicas.find((replica) => replica.id === stalled.replica)!;
    // Killed when the survivors' token enters its margin: from then on their callers need a refresh,
    // and one that waited on the dead holder's lease would wait until the takeover.
    const mustRefreshAt = served.requests[0].at + lifetimeMs - safetyMarginMs;
    await sleep(mustRefreshAt - Date.now());
    await holder.kill();
    const killedAt = Date.now();
    const survivors = replicas.filter((replica) => replica !== holder);

    // The lease used to last 15 s: a takeover must come well before that, however loaded the machine.
    const OLD_LEASE_MS = 15_000;
    const takeover = await eventually(
      'a replica taking over',
      () => served.requests[2],
      OLD_LEASE_MS - 3_000,
    );
    expect(survivors.map((replica) => replica.id)).toContain(takeover.replica);
    // Lease 2 s (renewed while its holder lived) + a poll, about 2.5 s: under half the old lease.
    expect(takeover.at - killedAt).toBeLessThan(OLD_LEASE_MS / 2);
    await eventually('every survivor on the new token', async () => {
      const reports = await Promise.all(survivors.map((replica) => replica.report()));
      return reports.every((report) => report.current === takeover.token) ? true : undefined;
    });

    const slowBoundMs = Math.max(1_000, (takeover.at - Math.max(stalled.at, mustRefreshAt)) / 2);
    for (const report of await Promise.all(survivors.map((replica) => replica.report()))) {
      expect({
        id: report.id,
        failures: report.failures,
        errors: report.errors,
        expired: report.expiredUses,
      }).toEqual({ id: report.id, failures: 0, errors: [], expired: 0 });
      // Their token was valid throughout: no call waited on the dead holder's lease. A call that did
      // would have waited from the margin's start until the takeover (over 1.3 s: the rest of the
      // renewed lease after the kill); half of that, or 1 s at least, leaves room for a loaded
      // machine's pauses.
      expect({ id: report.id, waitedOnTheLease: report.slowestCallMs >= slowBoundMs }).toEqual({
        id: report.id,
        waitedOnTheLease: false,
      });
    }
    expect(served.requests).toHaveLength(3);
  });
});
