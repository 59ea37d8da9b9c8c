import { inspect } from 'node:util';
import type { Logger } from '@nestjs/common';
import type { RedisOptions } from 'ioredis';
import { createRedisClient, type RedisClient } from './redis-client.factory.js';
import { REDIS_STORE_DEFAULTS, type RedisStoreOptions } from '../config/redis-store.options.js';

/** What a Redis step gives back when Redis failed or was too slow; the caller then works on its own. */
export const UNAVAILABLE = Symbol('redis unavailable');
export type Unavailable = typeof UNAVAILABLE;

const noop = () => {};

/**
 * The Redis store's two connections (commands, subscription) and what it knows of their health.
 * Every step runs within the caller's budget (a deadline) and never throws: a failure or a timeout
 * gives {@link UNAVAILABLE} and marks the store degraded (one log line), the next success or
 * reconnection clears it (one more line). While known to be down, Redis is not even tried.
 *
 * The connections live in `#private` fields: their options hold the Redis password, and nothing of
 * them may show in `util.inspect` or `JSON.stringify` of the store.
 */
export class RedisConnection {
  readonly #client: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #logger: Logger;
  readonly #quitTimeoutMs: number;
  #firstReady: Promise<boolean> | undefined;
  #degraded = false;
  #closing: Promise<void> | undefined;

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
    logger: Logger,
    client?: RedisClient,
  ) {
    this.#logger = logger;
    const budgetMs = resolveBudgetMs(config);
    this.#quitTimeoutMs = Math.max(250, budgetMs);
    const maxDelayMs = config.reconnectMaxDelayMs ?? REDIS_STORE_DEFAULTS.reconnectMaxDelayMs;
    const options: RedisOptions = {
      lazyConnect: true,
      // Fail at once while disconnected: a lease request queued and sent after a reconnect would
      // hold the lock for nobody.
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // The store bounds each call by its budget; this only reaps replies that never come.
      commandTimeout: Math.max(1_000, budgetMs),
      connectTimeout: Math.max(1_000, budgetMs),
      // ioredis arms a timer of this length (not unref'd) on disconnect, even for a socket already gone.
      disconnectTimeout: Math.min(budgetMs, 250),
      // Never give up (Redis may come back), but never wait long between attempts either.
      retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelayMs),
    };
    this.#client = createRedisClient(config, options, client);
    this.#subscriber = createRedisClient(config, { ...options, autoResubscribe: false }, this.#client);

    this.#client.on('ready', () => this.#markHealthy());
    this.#client.on('error', (error: Error) => this.#markDegraded(describeError(error)));
    this.#client.on('close', () => this.#markDegraded('connection lost'));
    this.#subscriber.on('error', noop); // the command connection reports the state
    // On a cluster, ioredis moves the subscription to another node by itself when its node goes.
    this.#subscriber.on('ready', () => void this.#subscriber.subscribe(channel).catch(noop));
    this.#subscriber.on('message', (from: string, message: string) => from === channel && onMessage(message));
    this.#client.connect().catch(noop);
    this.#subscriber.connect().catch(noop);
  }

  get degraded(): boolean {
    return this.#degraded;
  }

  get status(): { command: string; subscriber: string } {
    return { command: this.#client.status, subscriber: this.#subscriber.status };
  }

  /**
   * Whether to go to Redis at all. Ready: yes. Known down: no, at once. Still starting: wait for the
   * first connection until `deadline`, so replicas booting together share their first token.
   */
  async connected(deadline: number): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#client.status === 'ready') return true;
    if (this.#degraded) return false;
    this.#firstReady ??= new Promise<boolean>((resolve) => this.#client.once('ready', () => resolve(true)));
    if (await withinMs(this.#firstReady, deadline - Date.now())) return true;
    this.#markDegraded('not connected');
    return false;
  }

  /** Runs one Redis step, giving up at `deadline` (epoch ms): nothing is sent once it has passed. */
  async attempt<T>(step: (client: RedisClient) => Promise<T>, deadline: number): Promise<T | Unavailable> {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0 || this.#closed) return UNAVAILABLE;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('command timed out')), remainingMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([step(this.#client), timeout]);
      this.#markHealthy();
      return result;
    } catch (error) {
      this.#markDegraded(describeError(error));
      return UNAVAILABLE;
    } finally {
      clearTimeout(timer);
    }
  }

  get #closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Closes both connections (never an application's client they were duplicated from). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([this.#quit(this.#subscriber), this.#quit(this.#client)]).then(noop);
    return this.#closing;
  }

  [inspect.custom](): string {
    return `RedisConnection { status: '${this.#client.status}', degraded: ${this.#degraded} }`;
  }

  toJSON(): Record<string, unknown> {
    return { status: this.#client.status, degraded: this.#degraded };
  }

  #markDegraded(reason: string): void {
    if (this.#closed || this.#degraded) return;
    this.#degraded = true;
    this.#logger.warn(`redis unavailable (${reason}); each replica fetches its own tokens until it is back`);
  }

  #markHealthy(): void {
    if (!this.#degraded || this.#closed) return;
    this.#degraded = false;
    this.#logger.log('redis reachable again; tokens are shared across replicas');
  }

  /** QUIT when connected (pending replies arrive first), then make sure no reconnection is scheduled. */
  async #quit(connection: RedisClient): Promise<void> {
    const open = ['ready', 'connect', 'connecting'].includes(connection.status);
    const ended = open ? new Promise((resolve) => connection.once('end', resolve)) : undefined;
    if (connection.status === 'ready') {
      await withinMs(connection.quit().catch(noop), this.#quitTimeoutMs);
      if (ended !== undefined) await withinMs(ended, this.#quitTimeoutMs);
    }
    if (connection.status !== 'end') connection.disconnect();
  }
}

/** The Redis budget in force: `budgetMs`, else the older `commandTimeoutMs`, else the default. */
export function resolveBudgetMs(config: RedisStoreOptions): number {
  return config.budgetMs ?? config.commandTimeoutMs ?? REDIS_STORE_DEFAULTS.budgetMs;
}

/** Waits for `promise`, at most `ms`; undefined when the time ran out first. */
function withinMs<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms <= 0) return Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** An error's code or class, never its message, which could echo a connection string. */
export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (error instanceof Error && /timed out/i.test(error.message)) return 'command timed out';
  return error instanceof Error ? error.name : 'unknown error';
}
