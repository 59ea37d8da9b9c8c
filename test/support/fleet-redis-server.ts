import type { ChildProcess } from 'node:child_process';
import {
  freePort,
  launchRedis,
  launchRedisOnFreePort,
  stopRedis,
} from '../../bench/support/redis-process.js';

export { freePort };

const args = (port: number) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
];

/**
 * A `redis-server` of the test's own, on a free port, without persistence, so a test can stop and
 * restart it without touching the shared Redis on 6379.
 */
export class RedisServerProcess {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServerProcess> {
    const { port, child } = await launchRedisOnFreePort(args);
    const server = new RedisServerProcess(port);
    server.child = child;
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The server's PID while it runs (for tests checking that nothing is left behind). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Starts the server again, on the same port, empty, and waits until it answers; fails at once when
   * it exits during start-up. Every server started is killed when the test process exits.
   */
  async restart(): Promise<void> {
    if (this.child !== undefined) throw new Error('redis-server already running');
    this.child = await launchRedis(this.port, args(this.port));
  }

  /** SIGSTOP: the server keeps its sockets open and answers nothing, as a stalled host would. */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** SIGCONT after {@link pause}. */
  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills the server at once (also while stopped by {@link pause}), as a crash would, and waits until it is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await stopRedis(child);
  }
}
