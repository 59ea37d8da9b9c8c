import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { REDIS_STORE_DEFAULTS, type RedisStoreOptions } from './redis-store.options.js';

/** What a Redis step gives back when Redis failed or was too slow; the caller then works on its own. */
export const UNAVAILABLE = Symbol('redis unavailable');
export type Unavailable = typeof UNAVAILABLE;

const noop = () => {};

/**
 * The Redis store's two connections (commands, subscription) and what it knows of their health.
 * Every step runs within the command timeout and never throws: a failure or a timeout gives
 * {@link UNAVAILABLE} and marks the store degraded (one log line), the next success or reconnection
 * clears it (one more line). While known to be down, Redis is not even tried.
 */
export class RedisConnection {
  readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly commandTimeoutMs: number;
  private firstReady: Promise<boolean> | undefined;
  private isDegraded = false;
  private closing: Promise<void> | undefined;

  /**
   * `client`: the application's own connection. It is never sent a command nor given a listener: both
   * connections are duplicates of it with the options below (its own may queue commands while offline
   * and resend them after a reconnection, which would take a lease for nobody), and only they are
   * closed on close.
   */
  constructor(
    config: RedisStoreOptions,
    channel: string,
    onMessage: (message: string) => void,
    private readonly logger: Logger,
    client?: Redis,
  ) {
    this.commandTimeoutMs = config.commandTimeoutMs ?? REDIS_STORE_DEFAULTS.commandTimeoutMs;
    const maxDelayMs = config.reconnectMaxDelayMs ?? REDIS_STORE_DEFAULTS.reconnectMaxDelayMs;
    const options: RedisOptions = {
      lazyConnect: true,
      // Fail at once while disconnected: a lease request queued and sent after a reconnect would
      // hold the lock for nobody.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: Math.max(1_000, this.commandTimeoutMs),
      // ioredis arms a timer of this length (not unref'd) on disconnect, even for a socket already gone.
      disconnectTimeout: Math.min(this.commandTimeoutMs, 250),
      // Never give up (Redis may come back), but never wait long between attempts either.
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelayMs),
    };
    this.client = client === undefined ? createClient(config, options) : client.duplicate(options);
    this.subscriber = this.client.duplicate({ ...options, autoResubscribe: false });

    this.client.on('ready', () => this.markHealthy());
    this.client.on('error', (error: Error) => this.markDegraded(describeError(error)));
    this.client.on('close', () => this.markDegraded('connection lost'));
    this.subscriber.on('error', noop); // the command connection reports the state
    this.subscriber.on('ready', () => void this.subscriber.subscribe(channel).catch(noop));
    this.subscriber.on('message', (from: string, message: string) => from === channel && onMessage(message));
    this.client.connect().catch(noop);
    this.subscriber.connect().catch(noop);
  }

  get degraded(): boolean {
    return this.isDegraded;
  }

  /**
   * Whether to go to Redis at all. Ready: yes. Known down: no, at once. Still starting: give the first
   * connection one command timeout, so replicas booting together share their first token.
   */
  async connected(): Promise<boolean> {
    if (this.closed) return false;
    if (this.client.status === 'ready') return true;
    if (this.isDegraded) return false;
    this.firstReady ??= new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), this.commandTimeoutMs);
      timer.unref();
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (await this.firstReady) return true;
    this.markDegraded('not connected');
    return false;
  }

  /** Runs one Redis step within the command timeout. */
  async attempt<T>(step: (client: Redis) => Promise<T>): Promise<T | Unavailable> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('command timed out')), this.commandTimeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([step(this.client), timeout]);
      this.markHealthy();
      return result;
    } catch (error) {
      this.markDegraded(describeError(error));
      return UNAVAILABLE;
    } finally {
      clearTimeout(timer);
    }
  }

  private get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Closes both connections (never an application's client they were duplicated from). Idempotent. */
  close(): Promise<void> {
    this.closing ??= Promise.all([this.quit(this.subscriber), this.quit(this.client)]).then(noop);
    return this.closing;
  }

  private markDegraded(reason: string): void {
    if (this.closed || this.isDegraded) return;
    this.isDegraded = true;
    this.logger.warn(`redis unavailable (${reason}); each replica fetches its own tokens until it is back`);
  }

  private markHealthy(): void {
    if (!this.isDegraded || this.closed) return;
    this.isDegraded = false;
    this.logger.log('redis reachable again; tokens are shared across replicas');
  }

  /** QUIT when connected (pending replies arrive first), then make sure no reconnection is scheduled. */
  private async quit(connection: Redis): Promise<void> {
    const open = ['ready', 'connect', 'connecting'].includes(connection.status);
    const ended = open ? new Promise((resolve) => connection.once('end', resolve)) : undefined;
    if (connection.status === 'ready') {
      await withinMs(connection.quit().catch(noop), this.commandTimeoutMs);
      if (ended !== undefined) await withinMs(ended, this.commandTimeoutMs);
    }
    if (connection.status !== 'end') connection.disconnect();
  }
}

function createClient(config: RedisStoreOptions, options: RedisOptions): Redis {
  const explicit: RedisOptions = {
    ...(config.host !== undefined && { host: config.host }),
    ...(config.port !== undefined && { port: config.port }),
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    ...(config.db !== undefined && { db: config.db }),
    ...(config.tls === true && { tls: {} }),
  };
  return config.url === undefined
    ? new Redis({ ...options, ...explicit })
    : new Redis(config.url, { ...options, ...explicit });
}

/** Waits for `promise`, at most `ms`. */
function withinMs(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error's code or class, never its message, which could echo a connection string. */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (error instanceof Error && /timed out/i.test(error.message)) return 'command timed out';
  return error instanceof Error ? error.name : 'unknown error';
}
