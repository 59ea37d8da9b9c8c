import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import type { TokenEncryptionKey } from '../libs/token/src/config/redis-store.options.js';
import { FleetTokenEndpoint } from './support/fleet-token-endpoint.js';
import { ReplicaProcess, type ReplicaConfig } from './support/fleet-replicas.js';

// Replica processes and sleeps sized to token lifetimes: tens of seconds by design, more on a loaded
// 2-core machine (seven replica starts in a row: 105 s seen under a load average of 14). The
// scenario's own waits bound what it proves; this only stops a hung run.
jest.setTimeout(300_000);

/**
 * The documented key rotation, stepped through by 2 replica processes restarted one at a time, as a
 * rolling deployment does: (1) the new key deployed as decrypt-only everywhere, (2) the new key made
 * primary with the old one kept to decrypt, (3) a token lifetime later, the old key dropped. Sharing
 * never stops: the fleet asks for tokens as often as one process would, and no entry is undecryptable.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `ntm-rotation:${randomUUID()}:`;
const oldKey = { kid: '2026-10', key: randomBytes(32).toString('base64') };
const newKey = { kid: '2026-11', key: randomBytes(32).toString('base64') };

let replicas: ReplicaProcess[] = [];
let endpoint: FleetTokenEndpoint | undefined;
const storeLines: string[] = [];

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => replica.kill())));
  replicas = [];
  await endpoint?.close();
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('encryption key rotation on a running fleet', () => {
  it('2 replicas through decrypt-only, primary, old key dropped: one process worth of token requests, no decrypt warning', async () => {
    const lifetimeMs = 3_000;
    const safetyMarginMs = 300;
    endpoint = new FleetTokenEndpoint(lifetimeMs);
    const tokenUrl = await endpoint.start();
    const config = (id: string, encryptionKeys: TokenEncryptionKey[]): ReplicaConfig => ({
      id,
      tokenUrl,
      safetyMarginMs,
      callIntervalMs: 20,
      // A roomy budget: on a loaded machine a slow reply must not look like an outage (a replica
      // working on its own fetches a token of its own).
      redis: { url: REDIS_URL, keyPrefix: prefix, encryptionKeys, budgetMs: 5_000 },
    });
    /** A rolling deployment: each replica in turn stopped and started with the new key list. */
    const deploy = async (encryptionKeys: TokenEncryptionKey[]) => {
      for (const [index, replica] of replicas.entries()) {
        storeLines.push(...(await replica.report()).storeLines);
        await replica.stop();
        replicas[index] = await ReplicaProcess.start(config(replica.id, encryptionKeys));
        await sleep(300);
      }
    };

    replicas = [
      await ReplicaProcess.start(config('replica-1', [oldKey])),
      await ReplicaProcess.start(config('replica-2', [oldKey])),
    ];
    await sleep(1_000);
    await deploy([oldKey, { ...newKey, decryptOnly: true }]); // 1. everyone can read the new key
    await deploy([newKey, oldKey]); // 2. the new key encrypts; old entries still readable
    await sleep(lifetimeMs); // every entry written with the old key has expired
    await deploy([newKey]); // 3. the old key is gone
    await sleep(1_000);
    const reports = await Promise.all(replicas.map((replica) => replica.report()));
    storeLines.push(...reports.flatMap((report) => report.storeLines));

    expect(storeLines.filter((line) => /decrypt/i.test(line))).toEqual([]);
    for (const report of reports)
      expect({ id: report.id, failures: report.failures }).toEqual({ id: report.id, failures: 0 });
    // A single process replaces its token 2 × margin before expiry at the latest: at most this many.
    const { requests } = endpoint;
    const spanMs = requests[requests.length - 1].at - requests[0].at;
    expect(requests.length).toBeLessThanOrEqual(Math.floor(spanMs / (lifetimeMs - 2 * safetyMarginMs)) + 1);
  });
});
