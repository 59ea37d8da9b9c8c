import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Cluster } from 'ioredis';
import { RedisTokenStore } from '../libs/token/src/stores/redis-token.store.js';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { RedisClusterTopology } from './support/fleet-redis-topology.js';
import { FailoverFleet, sleep } from './support/fleet-failover.js';
import { eventually } from './support/fleet-replicas.js';

// Replica processes and sleeps sized to token lifetimes: tens of seconds by design, more on a loaded
// 2-core machine. The scenario's own waits bound what it proves; this only stops a hung run.
jest.setTimeout(120_000);

/**
 * Fleet mode on a real Redis Cluster (3 masters, 3 replicas, started by the test): 4 replica
 * processes share one token per lifetime, an invalidation reaches all of them, and the master
 * serving the provider's slot is SIGKILLed mid-run without a single failed caller.
 */
const encryptionKeys = [{ kid: 'cluster', key: randomBytes(32).toString('base64') }];
const PREFIX = 'ntm-cluster:';
const TOKEN_KEY = `${PREFIX}token:{fleet:api}`;

let cluster: RedisClusterTopology;
let fleet: FailoverFleet | undefined;

// Beyond the start's own limits, so a failed start stops what it started before the suite moves on.
beforeAll(async () => {
  cluster = await RedisClusterTopology.start();
}, 90_000);

afterAll(async () => {
  await fleet?.stop();
  await cluster?.stop();
});

describe('fleet mode on a Redis Cluster', () => {
  it('shares tokens, broadcasts invalidations and survives its master being killed', async () => {
    fleet = new FailoverFleet();
    const { endpoint } = fleet;
    await fleet.start(4, {
      cluster: { nodes: cluster.nodes },
      keyPrefix: PREFIX,
      encryptionKeys,
      // Roomy: a killed master's connections close at once, whatever the budget; a budget near one
      // loaded machine's pause would make a replica fetch on its own while Redis is fine.
      budgetMs: 2_000,
    });

    // Shared: one process's worth of token requests over 2 lifetimes.
    await fleet.expectOneProcessWorthOfRequests();
    const before = await fleet.onOneToken('every replica on one token', 10_000);

    // An invalidation on one replica reaches the three others, through any node of the cluster.
    await fleet.replicas[0].invalidate();
    const after = await eventually(
      'every replica on the replacement',
      async () => {
        const current = await fleet!.commonToken();
        return current !== undefined && current !== before ? current : undefined;
      },
      10_000,
    );
    expect(endpoint.tokens).toContain(after);

    // The master serving the provider's slot dies mid-run.
    const master = await cluster.masterOf(TOKEN_KEY);
    fleet.markKill();
    await cluster.kill(master);
    await cluster.healed(TOKEN_KEY, master);
    await sleep(fleet.lifetimeMs);
    // Sharing resumed: again every replica on one token, with few extra requests.
    await fleet.onOneToken('sharing resumed after the promotion', 15_000);
    await fleet.expectNoFailedCaller('cluster failover');
  });

  it("works on an application's own Cluster client, tags the keys and leaves the client open", async () => {
    const app = new Cluster(
      cluster.nodes.map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })),
    );
    // Two replicas' stores on the application's client. Each opens its own cluster connections
    // (slot discovery, then a node connection on the first command); the first obtain() waits for
    // them only within the budget (100 ms by default), and a loaded CI machine can take longer:
    // the first store then fetched on its own without sharing, and the second called generate.
    // So: a roomy budget, and both stores connected before the first call.
    const options = { keyPrefix: 'ntm-app-cluster:', encryptionKeys, budgetMs: 2_000 };
    const [first, second] = [new RedisTokenStore(options, app), new RedisTokenStore(options, app)];
    try {
      await eventually(
        'both stores connected',
        () =>
          [first, second].every(
            (store) =>
              store.connectionStatus.command === 'ready' && store.connectionStatus.subscriber === 'ready',
          ) || undefined,
        10_000,
      );
      const token = new TokenInfo({
        token: `app-${randomBytes(8).toString('hex')}`,
        expiresAt: Date.now() + 60_000,
      });
      expect(
        await first.obtain(
          'svc',
          async () => token,
          () => true,
        ),
      ).toBe(token);
      // Shared under the tagged key, on the cluster, before the second replica asks.
      expect({ degraded: first.degraded, stored: await app.exists('ntm-app-cluster:token:{svc}') }).toEqual({
        degraded: false,
        stored: 1,
      });
      let calls = 0;
      const shared = await second.obtain(
        'svc',
        async () => (calls++, token),
        () => true,
      );
      expect({ calls, token: shared.token }).toEqual({ calls: 0, token: token.token });
      await Promise.all([first.close(), second.close()]);
      expect(app.status).toBe('ready');
    } finally {
      await Promise.all([first.close(), second.close()]);
      await app.quit();
    }
  });
});
