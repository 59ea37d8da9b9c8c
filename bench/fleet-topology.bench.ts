import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { RedisStoreOptions } from '../libs/token/src/config/redis-store.options.js';
import type { TopologyMemberConfig, TopologyMemberReport } from './support/fleet-topology-member.js';
import { pick, type BenchOptions } from './support/options.js';
import { RedisClusterTopology, RedisSentinelTopology } from './support/redis-topology.js';
import { skippedRow, type ResultRow, type ScenarioResult } from './support/results.js';

const SCENARIO = 'fleet-topology';
const LIFETIME_S = 2;
const MARGIN_MS = 300;
const STORE_MODULE = new URL('../libs/token/src/stores/redis-token.store.js', import.meta.url).href;
const encryptionKeys = [{ kid: 'bench', key: randomBytes(32).toString('base64') }];

/** Counts token requests (and who sent them); a request whose number is in `stall` never gets an answer. */
class Endpoint {
  readonly requests: { member: string; at: number; answeredAt?: number }[] = [];
  private readonly server: Server = createServer((req, res) => {
    req.resume();
    const request = {
      member: String(req.headers['x-member']),
      at: Date.now(),
    } as Endpoint['requests'][number];
    this.requests.push(request);
    if (this.stall.has(this.requests.length)) return;
    request.answeredAt = Date.now();
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        access_token: `t-${this.requests.length}`,
        token_type: 'Bearer',
        expires_in: LIFETIME_S,
      }),
    );
  });
  constructor(private readonly stall = new Set<number>()) {}
  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

interface FleetRun {
  requests: Endpoint['requests'];
  reports: TopologyMemberReport[];
}

/** Starts `count` replicas on `redis`, runs them together for `durationMs`; `during` acts mid-run. */
async function runFleet(
  count: number,
  redis: Omit<RedisStoreOptions, 'encryptionKeys'>,
  durationMs: number,
  during: (members: ChildProcess[], endpoint: Endpoint) => Promise<void> = async () => {},
  stall?: Set<number>,
): Promise<FleetRun> {
  const endpoint = new Endpoint(stall);
  const tokenUrl = await endpoint.start();
  const file = fileURLToPath(new URL('./support/fleet-topology-member.js', import.meta.url));
  const keyPrefix = `ntm-bench-topology:${process.pid}:${Date.now().toString(36)}:`;
  const members = Array.from({ length: count }, (_, member) => {
    const config: TopologyMemberConfig = {
      member,
      tokenUrl,
      durationMs,
      storeModule: STORE_MODULE,
      safetyMarginMs: MARGIN_MS,
      redis: { ...redis, keyPrefix, encryptionKeys, budgetMs: 250 },
    };
    return fork(file, [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  });
  try {
    await Promise.all(members.map((member) => once(member, 'message')));
    const reports = members.map((member) =>
      once(member, 'message').then(([report]) => report as TopologyMemberReport),
    );
    members.forEach((member) => member.send('start'));
    await during(members, endpoint);
    // `killed`: a signal was sent; the exit itself may not have been seen yet.
    const alive = members.map((member, index) => (member.killed ? undefined : reports[index]));
    const settled = await Promise.all(alive.filter((report) => report !== undefined));
    return { requests: endpoint.requests, reports: settled };
  } finally {
    members.forEach((member) => member.connected && member.kill());
    await endpoint.stop();
  }
}

/** Progress on stderr: the orchestrator shows its tail when the scenario fails or times out. */
const progress = (step: string) =>
  process.stderr.write(`fleet-topology: ${step} at ${Math.round(performance.now() / 1000)} s\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (reports: TopologyMemberReport[], field: (report: TopologyMemberReport) => number) =>
  reports.reduce((total, report) => total + field(report), 0);

/**
 * Fleet mode on real topologies started from `redis-server`: token requests per lifetime of 1, 4 and
 * 16 replicas on a 3-master cluster (1 replica is the single-process baseline of the same run), what a
 * master killed mid-run costs (cluster and sentinel), and how long a dead lease holder delays a token.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const lifetimes = pick(options, 4, 2);
  const durationMs = lifetimes * LIFETIME_S * 1000;
  const rows: ResultRow[] = [];
  let cluster: RedisClusterTopology | undefined;
  let sentinel: RedisSentinelTopology | undefined;
  try {
    cluster = await RedisClusterTopology.start();
  } catch (error) {
    return {
      scenario: SCENARIO,
      rows: [skippedRow(SCENARIO, `no redis cluster: ${(error as Error).message}`)],
    };
  }
  try {
    progress('cluster up');
    const onCluster = { cluster: { nodes: cluster.nodes } };
    const baseline = (await runFleet(1, onCluster, durationMs)).requests.length / lifetimes;
    for (const count of pick(options, [4, 16], [4])) {
      progress(`${count} replicas`);
      const { requests, reports } = await runFleet(count, onCluster, durationMs);
      const perLifetime = requests.length / lifetimes;
      rows.push({
        scenario: SCENARIO,
        subject: `${count} replicas, 3-master cluster`,
        figure: 'token requests per lifetime (fleet / one process)',
        value: `${perLifetime.toFixed(2)} / ${baseline.toFixed(2)}`,
        target: '≤ one process + 1 per run',
        met: requests.length <= baseline * lifetimes + 1,
        note:
          `${requests.length} in ${lifetimes} lifetimes of ${LIFETIME_S} s; ` +
          `${sum(reports, (r) => r.failed)} failed of ${sum(reports, (r) => r.calls)} calls; budget 250 ms ` +
          '(on a starved CPU, a Redis reply later than that makes a replica fetch its own token)',
      });
    }

    const failover = async (
      label: string,
      redis: Omit<RedisStoreOptions, 'encryptionKeys'>,
      kill: () => Promise<void>,
    ) => {
      progress(`failover: ${label}`);
      const { requests, reports } = await runFleet(4, redis, durationMs, async () => {
        await sleep(durationMs / 3);
        await kill();
      });
      const failed = sum(reports, (r) => r.failed);
      rows.push({
        scenario: SCENARIO,
        subject: `4 replicas, ${label}, master SIGKILLed mid-run`,
        figure: 'failed callers / longest wait / extra token requests',
        value: `${failed} / ${Math.round(Math.max(...reports.map((r) => r.maxLatencyMs)))} ms / ${(requests.length - baseline * lifetimes).toFixed(1)}`,
        target: '0 failed',
        met: failed === 0,
        note: `${requests.length} token requests in ${lifetimes} lifetimes (one process: ${(baseline * lifetimes).toFixed(1)})`,
      });
    };
    const clusterRef = cluster;
    await failover('3-master cluster', onCluster, async () => {
      // The provider's keys hash on their tag alone: this is the master serving them.
      const master = await clusterRef.masterOf('{bench-fleet-topology}');
      await clusterRef.kill(master);
    });

    // The quick run leaves the sentinel out (its failover alone takes ~10 s).
    if (!options.quick) {
      sentinel = await RedisSentinelTopology.start();
      const sentinelRef = sentinel;
      await failover(
        'sentinel (master, replica, 3 sentinels)',
        {
          sentinel: {
            sentinels: sentinel.sentinels.map((port) => `127.0.0.1:${port}`),
            name: RedisSentinelTopology.NAME,
          },
          reconnectMaxDelayMs: 200,
        },
        () => sentinelRef.kill(sentinelRef.master),
      );
    }

    progress('lease holder killed');
    // The replica sending the first refresh (request 2, never answered) is SIGKILLed at once.
    let killedAt = 0;
    const { requests } = await runFleet(
      3,
      { url: 'redis://127.0.0.1:6379' },
      pick(options, 3, 2) * LIFETIME_S * 1000,
      async (members, endpoint) => {
        while (endpoint.requests.length < 2) await sleep(10);
        members[Number(endpoint.requests[1].member)].kill('SIGKILL');
        killedAt = Date.now();
      },
      new Set([2]),
    );
    const takeover = requests[2]?.answeredAt;
    rows.push({
      scenario: SCENARIO,
      subject: '3 replicas, lease holder SIGKILLed mid-refresh',
      figure: 'time until another replica has a token',
      value: takeover === undefined ? null : takeover - killedAt,
      unit: 'ms',
      target: '≈ leaseMs (2 000)',
      met: takeover !== undefined && takeover - killedAt < 4_000,
      note: 'default leaseMs 2 000 ms, renewed while its holder lives',
    });
  } finally {
    await cluster?.stop();
    await sentinel?.stop();
  }
  return { scenario: SCENARIO, rows };
}
