import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Deletes a key only if it still holds the expected value, in one step. */
const COMPARE_AND_DELETE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Deletes `key` only if it still holds `expected`; true when it did. */
export async function compareAndDelete(client: Redis, key: string, expected: string): Promise<boolean> {
  return (await client.eval(COMPARE_AND_DELETE_SCRIPT, 1, key, expected)) === 1;
}

/**
 * A lock over Redis that frees itself: `SET key owner NX PX leaseMs`, released by compare-and-delete.
 * A holder that dies (SIGKILL, lost network) stops blocking others once `leaseMs` has passed. It gives
 * mutual exclusion for efficiency, not for correctness: a holder paused past its lease may overlap the
 * next one, which at worst costs one extra token request.
 */
export class RedisLease {
  /** Identifies this process's holds; a counter makes each hold unique. */
  private readonly instanceId = randomBytes(8).toString('hex');
  private sequence = 0;

  constructor(
    private readonly client: Redis,
    private readonly leaseMs: number,
  ) {}

  /** The owner id when the lock was free and is now held by this caller; undefined when someone holds it. */
  async acquire(lockKey: string): Promise<string | undefined> {
    const owner = `${this.instanceId}:${++this.sequence}`;
    const reply = await this.client.set(lockKey, owner, 'PX', this.leaseMs, 'NX');
    return reply === 'OK' ? owner : undefined;
  }

  /** True when `owner` still held the lock and freed it; a holder whose lease ran out frees nobody else's. */
  release(lockKey: string, owner: string): Promise<boolean> {
    return compareAndDelete(this.client, lockKey, owner);
  }
}
