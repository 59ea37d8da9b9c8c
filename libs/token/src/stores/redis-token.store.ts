import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { TokenInfo } from '../token-info.js';
import { parseOrThrow } from '../config/validation.js';
import { describeError, RedisConnection, UNAVAILABLE, type Unavailable } from './redis-connection.js';
import { compareAndDelete, RedisLease } from './redis-lease.js';
import {
  REDIS_STORE_DEFAULTS,
  redisStoreOptionsSchema,
  type RedisStoreOptions,
} from './redis-store.options.js';
import { TokenEncryption, UndecryptableTokenError } from './token-encryption.js';
import type { TokenStore } from './token-store.interface.js';

/** How often a replica waiting on another one's refresh looks again when no message came. */
const PEER_POLL_INTERVAL_MS = 250;

/** What replicas tell each other on the channel. Holds no token. */
interface StoreMessage {
  /** `set`: a new token was written; `invalidate`: drop the cached one. */
  t: 'set' | 'invalidate';
  /** The provider's cache key (never a secret). */
  k: string;
  /** The store that sent it. */
  o: string;
}

/**
 * The fleet tier: tokens shared by every replica through Redis, encrypted at rest, refreshed once for
 * the whole fleet under a lease lock, invalidations broadcast on a channel. Redis is never in a
 * caller's way: while it is unreachable or slow, every replica fetches its own tokens, and sharing
 * resumes when it is back.
 *
 * Keys: `<prefix>token:<cacheKey>` (the JWE, expiring with the token), `<prefix>lease:<cacheKey>`
 * (the refresh lock); channel `<prefix>events`.
 *
 * @publicApi
 * @example
 * new RedisTokenStore({ url: 'redis://redis:6379', encryptionKeys: [{ kid: '2026-11', key: process.env.TOKEN_KEY }] })
 */
export class RedisTokenStore implements TokenStore {
  private readonly logger = new Logger('RedisTokenStore');
  private readonly redis: RedisConnection;
  private readonly encryption: TokenEncryption;
  private readonly lease: RedisLease;
  private readonly origin = randomBytes(8).toString('hex');
  private readonly prefix: string;
  private readonly channel: string;
  private readonly waitForPeerMs: number;
  private readonly pollIntervalMs: number;
  private readonly listeners: ((key: string) => void)[] = [];
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Keys whose undecryptable entry was already reported: one log line, not one per read. */
  private readonly reportedUndecryptable = new Set<string>();
  private closed = false;

  /**
   * `client`: an ioredis connection of the application's. The store never sends on it: it opens its
   * own connections from it (`duplicate()`, same server and credentials, with the store's fail-fast
   * options) and closes only those; the application's client stays open and untouched.
   */
  constructor(options: RedisStoreOptions, client?: Redis) {
    const config = parseOrThrow(redisStoreOptionsSchema, options, 'token store "redis"');
    this.prefix = config.keyPrefix ?? REDIS_STORE_DEFAULTS.keyPrefix;
    this.channel = `${this.prefix}events`;
    this.waitForPeerMs = config.waitForPeerMs ?? REDIS_STORE_DEFAULTS.waitForPeerMs;
    const leaseMs = config.leaseMs ?? REDIS_STORE_DEFAULTS.leaseMs;
    this.pollIntervalMs = Math.min(PEER_POLL_INTERVAL_MS, Math.max(10, Math.floor(leaseMs / 4)));
    this.encryption = new TokenEncryption(config.encryptionKeys);
    this.redis = new RedisConnection(
      config,
      this.channel,
      (message) => this.onMessage(message),
      this.logger,
      client,
    );
    this.lease = new RedisLease(this.redis.client, leaseMs);
  }

  /** True while Redis is unreachable or failing and each replica works on its own. */
  get degraded(): boolean {
    return this.redis.degraded;
  }

  async obtain(
    key: string,
    generate: () => Promise<TokenInfo>,
    isUsable: (info: TokenInfo) => boolean,
  ): Promise<TokenInfo> {
    if (!(await this.redis.connected())) return generate();
    const stored = await this.read(key);
    if (stored === UNAVAILABLE) return generate();
    if (stored !== undefined && isUsable(stored)) return stored;

    const lockKey = `${this.prefix}lease:${key}`;
    const deadline = Date.now() + this.waitForPeerMs;
    for (;;) {
      const owner = await this.redis.attempt(() => this.lease.acquire(lockKey));
      if (owner === UNAVAILABLE) return generate();
      if (owner !== undefined) return this.refreshHoldingLease(key, lockKey, owner, generate, isUsable);
      // Another replica is refreshing: wait for its message (or a poll tick), then look again. A holder
      // that died stops holding the lock when its lease runs out, and the next attempt here wins.
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0 || this.closed) {
        this.logger.warn(`no shared token for "${key}" within ${this.waitForPeerMs} ms; fetching one here`);
        return generate();
      }
      await this.waitForPeer(key, Math.min(this.pollIntervalMs, remainingMs));
      const current = await this.read(key);
      if (current === UNAVAILABLE) return generate();
      if (current !== undefined && isUsable(current)) return current;
    }
  }

  /**
   * Drops the shared token and tells every other replica to drop theirs. With `onlyIfToken`, the
   * shared entry is deleted only while it still holds that token (the one an API rejected), and the
   * other replicas are told only when it was: a replica reporting a 401 late neither throws away the
   * replacement another one already stored nor makes every replica drop it.
   */
  async invalidate(key: string, onlyIfToken?: string): Promise<void> {
    if (!(await this.redis.connected())) return;
    const tokenKey = this.tokenKey(key);
    if (onlyIfToken === undefined) {
      await this.redis.attempt((client) => client.del(tokenKey));
    } else {
      const value = await this.redis.attempt((client) => client.get(tokenKey));
      if (typeof value !== 'string') return; // nothing shared (or Redis failed): nobody to tell
      const info = await this.encryption.decrypt(key, value).catch(() => undefined);
      if (info !== undefined && info.token !== onlyIfToken) return; // already replaced
      const deleted = await this.redis.attempt((client) => compareAndDelete(client, tokenKey, value));
      if (deleted !== true) return; // replaced or dropped meanwhile; whoever did it told the others
    }
    await this.publish({ t: 'invalidate', k: key, o: this.origin });
  }

  onInvalidate(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }

  /** Closes the store's own connections; an application's client handed in is left open. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const key of [...this.waiters.keys()]) this.wake(key);
    }
    return this.redis.close();
  }

  private async refreshHoldingLease(
    key: string,
    lockKey: string,
    owner: string,
    generate: () => Promise<TokenInfo>,
    isUsable: (info: TokenInfo) => boolean,
  ): Promise<TokenInfo> {
    try {
      // Someone may have stored a token between our read and our lock.
      const current = await this.read(key);
      if (current !== UNAVAILABLE && current !== undefined && isUsable(current)) return current;
      const fresh = await generate();
      await this.share(key, fresh);
      return fresh;
    } finally {
      await this.redis.attempt(() => this.lease.release(lockKey, owner));
    }
  }

  /** Stores the token encrypted until it expires and wakes the replicas waiting for it. */
  private async share(key: string, info: TokenInfo): Promise<void> {
    // `generate` hands over a token the service already normalised.
    const init = info.toInit();
    const ttlMs = Math.floor(init.expiresAt - Date.now());
    if (ttlMs <= 0) return;
    let value: string;
    try {
      value = await this.encryption.encrypt(key, init);
    } catch (error) {
      this.logger.warn(`could not encrypt the token for "${key}" (${describeError(error)}); not shared`);
      return;
    }
    const written = await this.redis.attempt((client) => client.set(this.tokenKey(key), value, 'PX', ttlMs));
    if (written !== UNAVAILABLE) await this.publish({ t: 'set', k: key, o: this.origin });
  }

  /** The shared token; undefined when there is none or it cannot be decrypted (then it gets replaced). */
  private async read(key: string): Promise<TokenInfo | undefined | Unavailable> {
    const value = await this.redis.attempt((client) => client.get(this.tokenKey(key)));
    if (value === UNAVAILABLE || value === null) return value ?? undefined;
    try {
      const info = await this.encryption.decrypt(key, value);
      this.reportedUndecryptable.delete(key);
      return info;
    } catch (error) {
      if (!this.reportedUndecryptable.has(key)) {
        this.reportedUndecryptable.add(key);
        const reason = error instanceof UndecryptableTokenError ? error.message : 'invalid entry';
        this.logger.warn(`shared token for "${key}" cannot be decrypted (${reason}); treating it as missing`);
      }
      return undefined;
    }
  }

  private async publish(message: StoreMessage): Promise<void> {
    await this.redis.attempt((client) => client.publish(this.channel, JSON.stringify(message)));
  }

  private onMessage(raw: string): void {
    let message: Partial<StoreMessage>;
    try {
      message = JSON.parse(raw) as Partial<StoreMessage>;
    } catch {
      return;
    }
    if (typeof message.k !== 'string') return;
    if (message.t === 'set') this.wake(message.k);
    // Our own invalidation already evicted here; acting on its echo would evict the token fetched since.
    if (message.t !== 'invalidate' || message.o === this.origin) return;
    for (const listener of this.listeners) {
      try {
        listener(message.k);
      } catch (error) {
        this.logger.error(`invalidation listener threw: ${(error as Error).message}`);
      }
    }
  }

  private waitForPeer(key: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let waiting = this.waiters.get(key);
      if (waiting === undefined) this.waiters.set(key, (waiting = new Set()));
      const set = waiting;
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      set.add(done);
    });
  }

  private wake(key: string): void {
    for (const done of [...(this.waiters.get(key) ?? [])]) done();
  }

  private tokenKey(key: string): string {
    return `${this.prefix}token:${key}`;
  }
}
