import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { Cluster } from 'ioredis';
import type { TokenInfo } from '../core/token-info.js';
import { parseOrThrow } from '../config/validation.js';
import type { RedisClient } from './redis-client.factory.js';
import {
  describeError,
  RedisConnection,
  resolveBudgetMs,
  UNAVAILABLE,
  type Unavailable,
} from './redis-connection.js';
import { RedisKeys } from './redis-keys.js';
import { RedisLease } from './redis-lease.js';
import { dropWithGeneration, newGeneration, writeWithGeneration } from './redis-generation.js';
import {
  REDIS_STORE_DEFAULTS,
  redisStoreOptionsSchema,
  type RedisStoreOptions,
} from '../config/redis-store.options.js';
import { StoreSignals } from './redis-store.signals.js';
import { TokenEncryption, UndecryptableTokenError } from './token-encryption.js';
import type { TokenStore } from '../core/token-store.interface.js';

/** How often a replica waiting on another one's refresh looks again when no message came. */
const PEER_POLL_INTERVAL_MS = 250;

/**
 * The fleet tier: tokens shared by every replica through Redis (one server, Sentinel or Cluster),
 * encrypted at rest, refreshed once for the whole fleet under a short lease its holder renews,
 * invalidations broadcast on a channel. Redis is never in a caller's way: no call waits on it longer
 * than the budget (`budgetMs`) before fetching its own token, and sharing resumes when Redis is back.
 *
 * Keys: `<prefix>token:<cacheKey>` (the JWE, expiring with the token), `<prefix>lease:<cacheKey>`
 * (the refresh lock), with the cache key as a hash tag (`{<cacheKey>}`) on a cluster; channel
 * `<prefix>events`. Connections and keys are `#private`: `util.inspect` shows neither.
 *
 * @publicApi
 * @example
 * new RedisTokenStore({ url: 'redis://redis:6379', encryptionKeys: [{ kid: '2026-11', key: process.env.TOKEN_KEY }] })
 */
export class RedisTokenStore implements TokenStore {
  readonly #logger = new Logger('RedisTokenStore');
  readonly #redis: RedisConnection;
  readonly #encryption: TokenEncryption;
  readonly #lease: RedisLease;
  readonly #keys: RedisKeys;
  readonly #budgetMs: number;
  readonly #waitForPeerMs: number;
  readonly #pollIntervalMs: number;
  readonly #signals = new StoreSignals(this.#logger);
  /** Keys whose undecryptable entry was already reported: one log line, not one per read. */
  readonly #reportedUndecryptable = new Set<string>();
  #closed = false;

  /**
   * `client`: an ioredis connection (or Cluster) of the application's. The store never sends on it: it
   * opens its own connections from it (same servers and credentials, with the store's fail-fast
   * options) and closes only those; the application's client stays open and untouched.
   */
  constructor(options: RedisStoreOptions, client?: RedisClient) {
    const config = parseOrThrow(redisStoreOptionsSchema, options, 'token store "redis"');
    const prefix = config.keyPrefix ?? REDIS_STORE_DEFAULTS.keyPrefix;
    this.#keys = new RedisKeys(prefix, config.cluster !== undefined || client instanceof Cluster);
    this.#budgetMs = resolveBudgetMs(config);
    this.#waitForPeerMs = config.waitForPeerMs ?? REDIS_STORE_DEFAULTS.waitForPeerMs;
    this.#lease = new RedisLease(config.leaseMs ?? REDIS_STORE_DEFAULTS.leaseMs);
    this.#pollIntervalMs = Math.min(PEER_POLL_INTERVAL_MS, Math.max(10, Math.floor(this.#lease.leaseMs / 4)));
    this.#encryption = new TokenEncryption(config.encryptionKeys);
    this.#redis = new RedisConnection(
      config,
      this.#keys.channel,
      (message) => this.#signals.receive(message),
      this.#logger,
      client,
    );
  }

  /** True while Redis is unreachable or failing and each replica works on its own. */
  get degraded(): boolean {
    return this.#redis.degraded;
  }

  async obtain(
    key: string,
    generate: (previous?: TokenInfo) => Promise<TokenInfo>,
    isUsable: (info: TokenInfo) => boolean,
    current?: TokenInfo,
  ): Promise<TokenInfo> {
    let deadline = this.#deadline();
    if (!(await this.#redis.connected(deadline))) return generate();
    const stored = await this.#read(key, deadline);
    if (stored === UNAVAILABLE) return generate();
    if (stored !== undefined && isUsable(stored)) return stored;

    const lockKey = this.#keys.lease(key);
    const waitUntil = Date.now() + this.#waitForPeerMs;
    let latest = stored;
    for (;;) {
      const owner = await this.#redis.attempt((client) => this.#lease.acquire(client, lockKey), deadline);
      if (owner === UNAVAILABLE) return generate();
      if (owner !== undefined) {
        return this.#refreshHoldingLease(key, lockKey, owner, deadline, latest, generate, isUsable);
      }
      // Another replica is refreshing. This one still holds a valid token: it serves that one.
      if (current !== undefined && !current.isExpiredAt(Date.now())) return current;
      // Otherwise wait for the holder's message (or a poll tick), then look again. A holder that died
      // stops renewing its lease, and an attempt here wins within `leaseMs`.
      const remainingMs = waitUntil - Date.now();
      if (remainingMs <= 0 || this.#closed) {
        this.#logger.warn(`no shared token for "${key}" within ${this.#waitForPeerMs} ms; fetching one here`);
        return generate();
      }
      await this.#signals.waitFor(key, Math.min(this.#pollIntervalMs, remainingMs));
      deadline = this.#deadline();
      const now = await this.#read(key, deadline);
      if (now === UNAVAILABLE) return generate();
      if (now !== undefined && isUsable(now)) return now;
      latest = now ?? latest;
    }
  }

  /**
   * Drops the shared token and tells every other replica to drop theirs, all within one budget. With
   * `onlyIfToken`, the shared entry is deleted only while it still holds that token (the one an API
   * rejected), and the other replicas are told only when it was: a replica reporting a 401 late
   * neither throws away the replacement another one already stored nor makes every replica drop it.
   */
  async invalidate(key: string, onlyIfToken?: string): Promise<void> {
    const deadline = this.#deadline();
    if (!(await this.#redis.connected(deadline))) return;
    const tokenKey = this.#keys.token(key);
    const generationKey = this.#keys.generation(key);
    // The generation goes with the entry: the dropped entry's bytes, written back later, are refused.
    if (onlyIfToken === undefined) {
      await this.#redis.attempt((client) => dropWithGeneration(client, tokenKey, generationKey), deadline);
    } else {
      const value = await this.#redis.attempt((client) => client.get(tokenKey), deadline);
      if (typeof value !== 'string') return; // nothing shared (or Redis failed): nobody to tell
      const info = await this.#encryption.decrypt(key, value).catch(() => undefined);
      if (info !== undefined && info.token !== onlyIfToken) return; // already replaced
      const deleted = await this.#redis.attempt(
        (client) => dropWithGeneration(client, tokenKey, generationKey, value),
        deadline,
      );
      if (deleted !== true) return; // replaced or dropped meanwhile; whoever did it told the others
    }
    await this.#publish(this.#signals.message('invalidate', key), deadline);
  }

  onInvalidate(listener: (key: string) => void): void {
    this.#signals.onInvalidate(listener);
  }

  /** Closes the store's own connections; an application's client handed in is left open. Idempotent. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#signals.wakeAll();
    }
    return this.#redis.close();
  }

  /** The state of the store's two connections (command, subscription), e.g. `ready` or `end`. */
  get connectionStatus(): { command: string; subscriber: string } {
    return this.#redis.status;
  }

  [inspect.custom](): string {
    return `RedisTokenStore ${JSON.stringify(this.toJSON())}`;
  }

  /** What the store may tell about itself: no connection option, no key. */
  toJSON(): Record<string, unknown> {
    return { channel: this.#keys.channel, degraded: this.degraded, closed: this.#closed };
  }

  async #refreshHoldingLease(
    key: string,
    lockKey: string,
    owner: string,
    deadline: number,
    stored: TokenInfo | undefined,
    generate: (previous?: TokenInfo) => Promise<TokenInfo>,
    isUsable: (info: TokenInfo) => boolean,
  ): Promise<TokenInfo> {
    // Renewed while the token request runs: a live holder keeps the lock however slow the issuer,
    // a dead one loses it within `leaseMs`.
    const everyMs = Math.max(10, Math.floor(this.#lease.leaseMs / 3));
    const renewal = setInterval(() => {
      void this.#redis.attempt((client) => this.#lease.renew(client, lockKey, owner), Date.now() + everyMs);
    }, everyMs);
    renewal.unref();
    try {
      // Someone may have stored a token between our read and our lock.
      const current = await this.#read(key, deadline);
      if (current !== UNAVAILABLE && current !== undefined && isUsable(current)) {
        await this.#release(lockKey, owner, this.#deadline());
        return current;
      }
      // The entry being replaced carries the fleet's newest refresh token, if the issuer rotates them.
      const fresh = await generate(current === UNAVAILABLE ? stored : (current ?? stored));
      // Sharing it and freeing the lock take at most one more budget.
      const after = this.#deadline();
      await this.#share(key, fresh, after);
      await this.#release(lockKey, owner, after);
      return fresh;
    } catch (error) {
      await this.#release(lockKey, owner, this.#deadline());
      throw error;
    } finally {
      clearInterval(renewal);
    }
  }

  async #release(lockKey: string, owner: string, deadline: number): Promise<void> {
    await this.#redis.attempt((client) => this.#lease.release(client, lockKey, owner), deadline);
  }

  /**
   * Stores the token encrypted until it expires, sealed for a new generation (so the entry it
   * replaces cannot be written back), and wakes the replicas waiting for it.
   */
  async #share(key: string, info: TokenInfo, deadline: number): Promise<void> {
    // `generate` hands over a token the service already admitted.
    const init = info.toInit();
    const ttlMs = Math.floor(init.expiresAt - Date.now());
    if (ttlMs <= 0) return;
    const generation = newGeneration();
    let value: string;
    try {
      value = await this.#encryption.encrypt(key, init, generation);
    } catch (error) {
      this.#logger.warn(`could not encrypt the token for "${key}" (${describeError(error)}); not shared`);
      return;
    }
    const written = await this.#redis.attempt(
      (client) =>
        writeWithGeneration(
          client,
          this.#keys.token(key),
          this.#keys.generation(key),
          value,
          ttlMs,
          generation,
        ),
      deadline,
    );
    if (written !== UNAVAILABLE) await this.#publish(this.#signals.message('set', key), deadline);
  }

  /**
   * The shared token; undefined when there is none, it cannot be decrypted, or it was sealed for
   * another generation than the current one (then it gets replaced).
   */
  async #read(key: string, deadline: number): Promise<TokenInfo | undefined | Unavailable> {
    // One round trip: the entry and its generation (one hash slot on a cluster).
    const reply = await this.#redis.attempt(
      (client) => client.mget(this.#keys.token(key), this.#keys.generation(key)),
      deadline,
    );
    if (reply === UNAVAILABLE) return reply;
    const [value, generation] = reply;
    if (typeof value !== 'string') return undefined;
    try {
      // No current generation (deleted, or an entry from before generations): no entry is admitted.
      const info = await this.#encryption.decrypt(key, value, generation ?? '');
      this.#reportedUndecryptable.delete(key);
      return info;
    } catch (error) {
      if (!this.#reportedUndecryptable.has(key)) {
        this.#reportedUndecryptable.add(key);
        const reason = error instanceof UndecryptableTokenError ? error.message : 'invalid entry';
        this.#logger.warn(
          `shared token for "${key}" cannot be decrypted (${reason}); treating it as missing`,
        );
      }
      return undefined;
    }
  }

  async #publish(message: string, deadline: number): Promise<void> {
    await this.#redis.attempt((client) => client.publish(this.#keys.channel, message), deadline);
  }

  #deadline(): number {
    return Date.now() + this.#budgetMs;
  }
}
