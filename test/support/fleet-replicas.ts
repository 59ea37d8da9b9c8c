import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { RedisStoreOptions } from '../../libs/token/src/config/redis-store.options.js';

export interface ReplicaConfig {
  id: string;
  tokenUrl: string;
  redis: RedisStoreOptions;
  safetyMarginMs: number;
  /** One getToken() call every this often. */
  callIntervalMs: number;
  /** Use the real OAuth2 strategy (client credentials, then refresh tokens) against `tokenUrl`. */
  oauth2?: { clientId: string; clientSecret: string };
}

export interface ReplicaReport {
  id: string;
  calls: number;
  failures: number;
  /** The first few failure messages. */
  errors: string[];
  /** Calls that got a token already past its expiry. */
  expiredUses: number;
  /** Every token this replica handed out, in order of first use. */
  tokens: string[];
  /** The token of the latest successful call. */
  current: string | undefined;
  /** What the Redis store logged. */
  storeLines: string[];
  /** The longest a getToken() call took, in ms. */
  slowestCallMs: number;
}

export type ReplicaRequest = { id: number; type: 'report' | 'stop' | 'invalidate' };

const REPLICA_SCRIPT = fileURLToPath(new URL('./fleet-replica.ts', import.meta.url));
const REGISTER_HOOKS = fileURLToPath(new URL('./fleet-ts-register.mjs', import.meta.url));

/** A replica in a child process (TypeScript run through SWC hooks; no build step). */
export class ReplicaProcess {
  private nextId = 1;
  private output = '';

  private constructor(
    readonly id: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-20_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(config: ReplicaConfig): Promise<ReplicaProcess> {
    const child = fork(REPLICA_SCRIPT, [], {
      execArgv: ['--import', REGISTER_HOOKS],
      env: { ...process.env, FLEET_REPLICA_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const replica = new ReplicaProcess(config.id, child);
    await replica.reply(0, 'did not start');
    return replica;
  }

  /** Whatever the replica printed (warnings, errors), for failure messages. */
  get log(): string {
    return this.output;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async report(): Promise<ReplicaReport> {
    return ((await this.request('report')) as { report: ReplicaReport }).report;
  }

  /** `TokenService.invalidate('api')` in the replica: every replica must drop the token. */
  async invalidate(): Promise<void> {
    await this.request('invalidate');
  }

  /** Closes the Nest application (store included) and lets the process end. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    await this.request('stop');
    await exited;
  }

  /** SIGKILL: no shutdown hook runs, the lease it holds stays until it expires. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  private request(type: ReplicaRequest['type']): Promise<unknown> {
    const id = this.nextId++;
    this.child.send({ id, type } satisfies ReplicaRequest);
    return this.reply(id, `did not answer "${type}"`);
  }

  private reply(id: number, failure: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { id?: number }) => {
        if (message.id !== id) return;
        cleanup();
        resolve(message);
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`replica ${this.id} ${failure}; it exited. Output:\n${this.output}`));
      };
      const cleanup = () => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
}

/**
 * Polls `probe` until it returns something other than undefined. The limit only stops a broken run
 * from polling forever; it is far above what the condition needs.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  limitMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
