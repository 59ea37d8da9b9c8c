import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it, jest } from '@jest/globals';
import { RedisSentinelTopology } from './support/fleet-redis-topology.js';
import { FailoverFleet, sleep } from './support/fleet-failover.js';
import { eventually } from './support/fleet-replicas.js';

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
let fleet: FailoverFleet | undefined;

// Beyond the start's own limits, so a failed start stops what it started before the suite moves on.
beforeAll(async () => {
  topology = await RedisSentinelTopology.start();
}, 90_000);

afterAll(async () => {
  await fleet?.stop();
  await topology?.stop();
});

describe('fleet mode behind Redis Sentinel', () => {
  it('shares tokens and survives the master being killed', async () => {
    fleet = new FailoverFleet();
    await fleet.start(3, {
      sentinel: {
        sentinels: topology.sentinels.map((port) => `127.0.0.1:${port}`),
        name: RedisSentinelTopology.NAME,
      },
      keyPrefix: 'ntm-sentinel:',
      encryptionKeys,
      // Roomy: a killed master's connections close at once, whatever the budget; a budget near one
      // loaded machine's pause would make a replica fetch on its own while Redis is fine.
      budgetMs: 2_000,
      reconnectMaxDelayMs: 200,
    });

    await fleet.expectOneProcessWorthOfRequests();
    await fleet.onOneToken('every replica on one token', 10_000);

    fleet.markKill();
    const killed = topology.master;
    await topology.kill(killed);
    await eventually(
      'the sentinels promoting the replica',
      async () => ((await topology.currentMaster()) === topology.replica ? true : undefined),
      20_000,
    );
    await sleep(fleet.lifetimeMs);
    await fleet.onOneToken('sharing resumed on the new master', 15_000);
    await fleet.expectNoFailedCaller('sentinel failover');
  });
});
