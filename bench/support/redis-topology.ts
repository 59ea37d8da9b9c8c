import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, launchRedisOnFreePort, stopRedis } from './redis-process.js';

/**
 * Real Redis topologies for the fleet tests and benchmarks, started from the `redis-server` binary on free loopback
 * ports in a temporary directory, and stopped by PID (never touching the Redis on 6379). A server that
 * exits at start-up fails the start at once (see `launchRedis`), and every server started is killed
 * when the process exits, also after a failed or timed-out test.
 */
abstract class Topology {
  protected readonly processes = new Map<number, ChildProcess>();

  protected constructor(protected readonly dir: string) {}

  /** SIGKILLs the process on `port`, as a crashed host would. */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    this.processes.delete(port);
    if (child !== undefined) await stopRedis(child);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((port) => this.kill(port)));
    await rm(this.dir, { recursive: true, force: true });
  }

  /** PIDs of the servers still running (for tests checking that nothing is left behind). */
  get pids(): number[] {
    return [...this.processes.values()].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** Starts a server on a free port (`args(port)` naming it) and gives back the port. */
  protected async spawnServer(args: (port: number) => string[] | Promise<string[]>): Promise<number> {
    const { port, child } = await launchRedisOnFreePort(args, this.dir);
    this.processes.set(port, child);
    return port;
  }
}

/** 3 masters with one replica each, `cluster-node-timeout` 1 s so a failover takes seconds. */
export class RedisClusterTopology extends Topology {
  readonly ports: number[] = [];

  static async start(): Promise<RedisClusterTopology> {
    const topology = new RedisClusterTopology(await mkdtemp(join(tmpdir(), 'ntm-cluster-')));
    try {
      // A node also listens on a cluster bus port, by default port + 10000, which Redis refuses above
      // 65535 (it exits at start for any port over 55535, and the kernel hands out ports up to 60999):
      // each node gets a bus port of its own.
      const ports = await Promise.all(
        Array.from({ length: 6 }, () =>
          topology.spawnServer(async (port) => [
            '--port',
            String(port),
            '--cluster-port',
            String(await freePort()),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '1000',
            '--cluster-replica-validity-factor',
            '0',
          ]),
        ),
      );
      topology.ports.push(...ports);
      const create = spawn(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...topology.ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { stdio: 'ignore' },
      );
      const [code] = (await once(create, 'exit')) as [number];
      if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`);
      await until('cluster_state:ok everywhere', async () => {
        const states = await Promise.all(topology.ports.map((port) => ask(port, ['CLUSTER', 'INFO'])));
        return states.every((info) => String(info).includes('cluster_state:ok'));
      });
      return topology;
    } catch (error) {
      await topology.stop();
      throw error;
    }
  }

  get nodes(): string[] {
    return this.ports.slice(0, 3).map((port) => `127.0.0.1:${port}`);
  }

  /** Every node still running (a killed master is left out). */
  get liveNodes(): { host: string; port: number }[] {
    return [...this.processes.keys()].map((port) => ({ host: '127.0.0.1', port }));
  }

  /** The port of the master serving `key`'s slot right now. */
  async masterOf(key: string): Promise<number> {
    for (const port of this.processes.keys()) {
      const slot = (await ask(port, ['CLUSTER', 'KEYSLOT', key])) as number | undefined;
      const ranges = (await ask(port, ['CLUSTER', 'SLOTS'])) as
        [number, number, [string, number]][] | undefined;
      const range = ranges?.find(([from, to]) => slot !== undefined && from <= slot && slot <= to);
      if (range !== undefined) return range[2][1];
    }
    throw new Error('no node answered');
  }

  /** True once a live node serves `key`'s slot again and the cluster says it is whole. */
  async healed(key: string, deadPort: number): Promise<void> {
    await until('a replica promoted', async () => {
      const master = await this.masterOf(key).catch(() => deadPort);
      if (master === deadPort) return false;
      return String(await ask(master, ['CLUSTER', 'INFO'])).includes('cluster_state:ok');
    });
  }
}

/** A master, a replica and 3 sentinels watching them as `main` (quorum 2, down after 1 s). */
export class RedisSentinelTopology extends Topology {
  master = 0;
  replica = 0;
  readonly sentinels: number[] = [];
  static readonly NAME = 'main';

  static async start(): Promise<RedisSentinelTopology> {
    const topology = new RedisSentinelTopology(await mkdtemp(join(tmpdir(), 'ntm-sentinel-')));
    try {
      const base = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      topology.master = await topology.spawnServer((port) => ['--port', String(port), ...base]);
      topology.replica = await topology.spawnServer((port) => [
        '--port',
        String(port),
        ...base,
        '--replicaof',
        '127.0.0.1',
        String(topology.master),
      ]);
      for (let index = 0; index < 3; index++) {
        const port = await topology.spawnServer(async (port) => {
          const file = join(topology.dir, `sentinel-${port}.conf`);
          await writeFile(
            file,
            [
              `port ${port}`,
              'bind 127.0.0.1',
              `dir ${topology.dir}`,
              `sentinel monitor ${RedisSentinelTopology.NAME} 127.0.0.1 ${topology.master} 2`,
              `sentinel down-after-milliseconds ${RedisSentinelTopology.NAME} 1000`,
              `sentinel failover-timeout ${RedisSentinelTopology.NAME} 3000`,
              `sentinel parallel-syncs ${RedisSentinelTopology.NAME} 1`,
              '',
            ].join('\n'),
          );
          return [file, '--sentinel'];
        });
        topology.sentinels.push(port);
      }
      await until('the replica in sync', async () =>
        String(await ask(topology.replica, ['INFO', 'replication'])).includes('master_link_status:up'),
      );
      await until('every sentinel seeing the replica', async () => {
        const counts = await Promise.all(
          topology.sentinels.map((port) => ask(port, ['SENTINEL', 'REPLICAS', RedisSentinelTopology.NAME])),
        );
        return counts.every((replicas) => Array.isArray(replicas) && replicas.length === 1);
      });
      return topology;
    } catch (error) {
      await topology.stop();
      throw error;
    }
  }

  /** The master's port as the sentinels report it. */
  async currentMaster(): Promise<number | undefined> {
    const reply = (await ask(this.sentinels[0], [
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      RedisSentinelTopology.NAME,
    ])) as [string, string] | undefined;
    return reply === undefined ? undefined : Number(reply[1]);
  }
}

/** One command on a short-lived connection; undefined when nothing answers. */
async function ask(port: number, command: string[]): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 500,
    commandTimeout: 1_000,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.call(command[0], ...command.slice(1));
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function until(what: string, probe: () => Promise<boolean>, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
