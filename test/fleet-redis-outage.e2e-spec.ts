import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisServerProcess } from './support/fleet-redis-server.js';
import { FleetTokenEndpoint } from './support/fleet-token-endpoint.js';
import { eventually, ReplicaProcess } from './support/fleet-replicas.js';

// Replica processes and sleeps sized to token lifetimes: tens of seconds by design, more on a loaded
// 2-core machine. The scenario's own waits bound what it proves; this only stops a hung run.
jest.setTimeout(120_000);

/** Two replica processes on a redis-server of the test's own, which it kills and starts again. */
const encryptionKeys = [{ kid: 'fleet', key: randomBytes(32).toString('base64') }];
const PREFIX = 'ntm-outage:';
const TOKEN_KEY = `${PREFIX}token:fleet:api`;

let replicas: ReplicaProcess[] = [];
let endpoint: FleetTokenEndpoint | undefined;
let redis: RedisServerProcess | undefined;

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => replica.kill())));
  replicas = [];
  await endpoint?.close();
  await redis?.stop();
});

describe('fleet mode when Redis goes away', () => {
  it('keeps every caller served while Redis is down and shares tokens again once it is back', async () => {
    redis = await RedisServerProcess.start();
    endpoint = new FleetTokenEndpoint(3_000);
    const tokenUrl = await endpoint.start();
    replicas = await Promise.all(
      ['replica-1', 'replica-2'].map((id) =>
        ReplicaProcess.start({
          id,
          tokenUrl,
          safetyMarginMs: 500,
          callIntervalMs: 20,
          redis: {
            url: redis!.url,
            keyPrefix: PREFIX,
            encryptionKeys,
            // Roomy: a crashed Redis refuses at once, whatever the budget; a budget near one loaded
            // machine's pause would add outages of its own (a second token, a second log line).
            commandTimeoutMs: 2_000,
            reconnectMaxDelayMs: 200,
          },
        }),
      ),
    );
    const served = endpoint;
    const reports = () => Promise.all(replicas.map((replica) => replica.report()));

    // Shared: both replicas on the one token fetched so far.
    await eventually('both replicas on the first token', async () => {
      const [a, b] = await reports();
      return a.current !== undefined && a.current === b.current && served.requests.length === 1
        ? true
        : undefined;
    });

    // Redis crashes: each replica keeps serving and fetches its own tokens.
    await redis.stop();
    const downFrom = served.requests.length;
    await eventually('both replicas fetching on their own', () => {
      const fetchedBy = new Set(served.requests.slice(downFrom).map((request) => request.replica));
      return fetchedBy.size === 2 ? true : undefined;
    });

    // Redis is back (empty): one replica's token lands in Redis and the other one uses it.
    await redis.restart();
    const upFrom = served.requests.length;
    const shared = await eventually('a token fetched by one replica and used by the other', async () => {
      const current = await reports();
      for (const request of served.requests.slice(upFrom)) {
        const others = current.filter((report) => report.id !== request.replica);
        if (request.token !== undefined && others.every((report) => report.tokens.includes(request.token!))) {
          return request;
        }
      }
      return undefined;
    });
    expect(shared.token).toBeDefined();

    const admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const stored = await admin.get(TOKEN_KEY);
      expect(stored).not.toBeNull();
      expect(served.tokens.some((token) => stored!.includes(token))).toBe(false);
    } finally {
      await admin.quit();
    }

    for (const report of await reports()) {
      expect({ id: report.id, failures: report.failures, errors: report.errors }).toEqual({
        id: report.id,
        failures: 0,
        errors: [],
      });
      expect(report.expiredUses).toBe(0);
      // One line when Redis went away, one when it came back; not one per call.
      expect(report.storeLines.filter((line) => line.startsWith('redis unavailable'))).toHaveLength(1);
      expect(report.storeLines.filter((line) => line.startsWith('redis reachable again'))).toHaveLength(1);
    }
  });
});
