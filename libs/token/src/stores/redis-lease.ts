import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis-client.factory.js';

/** Deletes a key only if it still holds the expected value, in one step. */
const COMPARE_AND_DELETE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Extends a key's expiry only while it still holds the expected value, in one step. */
const COMPARE_AND_EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** Deletes `key` only if it still holds `expected`; true when it did. */
export async function compareAndDelete(client: RedisClient, key: string, expected: string): Promise<boolean> {
  return (await client.eval(COMPARE_AND_DELETE_SCRIPT, 1, key, expected)) === 1;
}

/**
 * A lock over Redis that frees itself: `SET key owner NX PX leaseMs`, renewed by its holder while it
 * works (compare-and-extend), released by compare-and-delete. The lease is short: a holder that dies
 * (SIGKILL, lost network) stops blocking others within `leaseMs`, however long the token request it
 * was running may take. It gives mutual exclusion for efficiency, not for correctness: a holder
 * paused past its lease may overlap the next one, which at worst costs one extra token request.
 */
export class RedisLease {
  /** Identifies this process's holds; a counter makes each hold unique. */
  readonly #instanceId = randomBytes(8).toString('hex');
  #sequence = 0;

  constructor(readonly leaseMs: number) {}

  /** The owner id when the lock was free and is now held by this caller; undefined when someone holds it. */
  async acquire(client: RedisClient, lockKey: string): Promise<string | undefined> {
    const owner = `${this.#instanceId}:${++this.#sequence}`;
    const reply = await client.set(lockKey, owner, 'PX', this.leaseMs, 'NX');
    return reply === 'OK' ? owner : undefined;
  }

  /** Gives `owner` another full lease; false when it no longer holds the lock. */
  async renew(client: RedisClient, lockKey: string, owner: string): Promise<boolean> {
    return (await client.eval(COMPARE_AND_EXTEND_SCRIPT, 1, lockKey, owner, this.leaseMs)) === 1;
  }

  /** True when `owner` still held the lock and freed it; a holder whose lease ran out frees nobody else's. */
  release(client: RedisClient, lockKey: string, owner: string): Promise<boolean> {
    return compareAndDelete(client, lockKey, owner);
  }
}
