import { randomBytes, randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { TokenInfo } from '../core/token-info.js';
import type { RedisStoreOptions } from '../config/redis-store.options.js';
import { newGeneration, writeWithGeneration } from '../stores/redis-generation.js';
import { RedisTokenStore } from '../stores/redis-token.store.js';
import { TokenEncryption } from '../stores/token-encryption.js';

/** The Redis the store specs run against (CI starts one); every test uses its own key prefix. */
export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A command of the store's connections that {@link RedisStoreFixture.failCommand} can make fail. */
type FailableCommand = 'mget' | 'set' | 'eval';
type CommandFn = (this: Redis, ...args: unknown[]) => Promise<unknown>;

/**
 * One spec file's Redis stores, key prefixes and helper connections, all closed or deleted by
 * {@link closeAll} (after each test) and {@link cleanup} (after the file): Jest exits, and only this
 * file's keys are deleted (a second copy of the suite may be using the same Redis).
 */
export class RedisStoreFixture {
  readonly admin = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => (attempt > 5 ? null : 100),
  });
  readonly encryptionKey = { kid: 'fixture', key: randomBytes(32).toString('base64') };
  readonly #stores: RedisTokenStore[] = [];
  readonly #subscribers: Redis[] = [];
  readonly #prefixes: string[] = [];

  newPrefix(): string {
    const prefix = `ntm-test:${randomUUID()}:`;
    this.#prefixes.push(prefix);
    return prefix;
  }

  /**
   * A store under `prefix`, closed after the test. The 100 ms default budget is a production figure:
   * on a loaded test machine one round trip can outlast it, so the budget here is 5 s.
   */
  newStore(prefix: string, options: Partial<RedisStoreOptions> = {}): RedisTokenStore {
    const store = new RedisTokenStore({
      url: REDIS_URL,
      keyPrefix: prefix,
      encryptionKeys: [this.encryptionKey],
      budgetMs: 5_000,
      ...options,
    });
    this.#stores.push(store);
    return store;
  }

  /** Writes `info` as a replica sharing it would: encrypted, sealed for a new current generation. */
  async writeEntry(prefix: string, cacheKey: string, info: TokenInfo): Promise<void> {
    const generation = newGeneration();
    const value = await new TokenEncryption([this.encryptionKey]).encrypt(
      cacheKey,
      info.toInit(),
      generation,
    );
    const ttlMs = Math.floor(info.expiresAt - Date.now());
    await writeWithGeneration(
      this.admin,
      `${prefix}token:${cacheKey}`,
      `${prefix}gen:${cacheKey}`,
      value,
      ttlMs,
      generation,
    );
  }

  /** Every message published on the stores' channel under `prefix` from now on, in order. */
  async listen(prefix: string): Promise<{ t: string; k: string }[]> {
    const subscriber = new Redis(REDIS_URL, { lazyConnect: true, retryStrategy: () => null });
    this.#subscribers.push(subscriber);
    const messages: { t: string; k: string }[] = [];
    subscriber.on('message', (_channel: string, raw: string) => {
      const { t, k } = JSON.parse(raw) as { t: string; k: string };
      messages.push({ t, k });
    });
    await subscriber.subscribe(`${prefix}events`);
    return messages;
  }

  /** Resolves once `count` connections listen on the channel under `prefix` (stores subscribe on connect). */
  async subscribers(prefix: string, count: number): Promise<void> {
    await until(async () => {
      const [, subscribed] = (await this.admin.pubsub('NUMSUB', `${prefix}events`)) as [string, number];
      return subscribed >= count;
    });
  }

  /**
   * Makes the stores' `method` command fail (as a Redis error reply would) for every call whose
   * arguments `matches` says so; the admin connection is left alone. Undone by `jest.restoreAllMocks()`.
   */
  failCommand(method: FailableCommand, matches: (args: unknown[]) => boolean): void {
    const proto = Redis.prototype as unknown as Record<FailableCommand, CommandFn>;
    const original = proto[method];
    const admin = this.admin;
    jest.spyOn(proto, method).mockImplementation(function (this: Redis, ...args: unknown[]) {
      if (this !== admin && matches(args)) return Promise.reject(new Error('ERR simulated failure'));
      return original.apply(this, args);
    });
  }

  /** Closes this test's stores and subscriber connections. */
  async closeAll(): Promise<void> {
    await Promise.all([
      ...this.#stores.splice(0).map((store) => store.close()),
      ...this.#subscribers.splice(0).map((subscriber) => subscriber.quit()),
    ]);
  }

  /** Deletes this file's keys and closes the admin connection. */
  async cleanup(): Promise<void> {
    for (const prefix of this.#prefixes) {
      const keys = await this.admin.keys(`${prefix}*`);
      if (keys.length > 0) await this.admin.del(...keys);
    }
    await this.admin.quit();
  }
}

/** Polls `condition` up to a deadline far above what it needs, a loaded machine included. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A token living `lifetimeMs` from now. */
export function mintToken(lifetimeMs = 60_000, extra?: Record<string, unknown>): TokenInfo {
  return new TokenInfo({ token: `token-${randomUUID()}`, expiresAt: Date.now() + lifetimeMs, extra });
}
