import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { isRunning, launchRedis } from '../bench/support/redis-process.js';
import { RedisClusterTopology } from './support/fleet-redis-topology.js';
import { eventually } from './support/fleet-replicas.js';

/**
 * The redis-server processes the fleet tests start: a Cluster starts whatever ports the kernel hands
 * out, a server that dies at start-up fails the start at once (not after a 30 s wait), and no server
 * outlives the test process, however that process ends.
 */
const ORPHAN_SCRIPT = fileURLToPath(new URL('./support/fleet-redis-orphan.ts', import.meta.url));
const REGISTER_HOOKS = fileURLToPath(new URL('./support/fleet-ts-register.mjs', import.meta.url));

describe('redis-server processes of the fleet tests', () => {
  it('starts a Redis Cluster three times in a row on fresh ports, and stop() leaves no server behind', async () => {
    // Before: a node on a port above 55535 (about 1 in 5 ephemeral ports) refused to start, so only
    // about 28 % of cluster starts succeeded.
    for (let round = 1; round <= 3; round++) {
      const cluster = await RedisClusterTopology.start();
      const pids = cluster.pids;
      await cluster.stop();
      expect({ round, nodes: pids.length, running: pids.filter(isRunning) }).toEqual({
        round,
        nodes: 6,
        running: [],
      });
    }
  }, 120_000);

  it('fails at once, saying why, when redis-server exits during start-up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ntm-early-exit-'));
    try {
      const startedAt = Date.now();
      // Cluster mode on a port whose bus port (port + 10000) would be above 65535: Redis exits at once.
      const start = launchRedis(
        58_123,
        ['--port', '58123', '--bind', '127.0.0.1', '--save', '', '--cluster-enabled', 'yes'],
        dir,
      );
      await expect(start).rejects.toThrow(/exited at start.*55535/);
      // Far below the 30 s a start waited before it noticed; room left for a loaded machine.
      expect(Date.now() - startedAt).toBeLessThan(10_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each(['exit', 'SIGTERM'])(
    'a (SIGSTOPped) server does not outlive a test process that ends by %s without stopping it',
    async (end) => {
      const child = fork(ORPHAN_SCRIPT, [], {
        execArgv: ['--import', REGISTER_HOOKS],
        env: { ...process.env, FLEET_ORPHAN_END: end },
        stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      });
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = once(child, 'exit');
      const pid = await eventually('the orphan server started', async () => {
        const match = /pid (\d+)/.exec(output);
        return match === null ? undefined : Number(match[1]);
      });
      try {
        if (end === 'SIGTERM') child.kill('SIGTERM');
        await exited;
        const gone = await eventually(
          'the server gone',
          async () => (isRunning(pid) ? undefined : true),
          5_000,
        ).catch(() => false);
        expect({ end, serverGone: gone }).toEqual({ end, serverGone: true });
      } finally {
        child.kill('SIGKILL');
        if (isRunning(pid)) process.kill(pid, 'SIGKILL'); // before the fix, the test itself cleans up
      }
    },
    30_000,
  );
});
