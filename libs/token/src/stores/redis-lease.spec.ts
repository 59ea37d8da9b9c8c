import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { RedisLease, compareAndDelete } from './redis-lease.js';

/** Needs the Redis on 127.0.0.1:6379 (CI starts one); every key is under this file's own prefix. */
const PREFIX = `ntm-lease-test:${randomUUID()}:`;
const client = new Redis('redis://127.0.0.1:6379', {
  lazyConnect: true,
  maxRetriesPerRequest: 1,
  retryStrategy: (attempt) => (attempt > 3 ? null : 100),
});
let keys = 0;
const newKey = () => `${PREFIX}${++keys}`;

beforeAll(async () => {
  await client.connect();
});

afterAll(async () => {
  const left = await client.keys(`${PREFIX}*`);
  if (left.length > 0) await client.del(...left);
  await client.quit();
});

describe('RedisLease', () => {
  it('gives the lock to one caller at a time, each hold under its own owner id', async () => {
    const lease = new RedisLease(60_000);
    const key = newKey();
    const owner = await lease.acquire(client, key);
    expect(owner).toEqual(expect.any(String));
    expect(owner).not.toBe('');
    expect(await client.get(key)).toBe(owner);
    const pttl = await client.pttl(key);
    expect(pttl).toBeGreaterThan(30_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
    expect(await lease.acquire(client, key)).toBeUndefined();
    expect(await new RedisLease(60_000).acquire(client, key)).toBeUndefined();
    expect(await client.get(key)).toBe(owner);
  });

  it('renews the lock for its holder only, by a full lease', async () => {
    const lease = new RedisLease(60_000);
    const key = newKey();
    const owner = (await lease.acquire(client, key))!;
    await client.pexpire(key, 5_000);
    expect(await lease.renew(client, key, owner)).toBe(true);
    expect(await client.pttl(key)).toBeGreaterThan(30_000);
    await client.pexpire(key, 5_000);
    expect(await lease.renew(client, key, `${owner}-not`)).toBe(false);
    expect(await client.pttl(key)).toBeLessThanOrEqual(5_000);
    await client.del(key);
    expect(await lease.renew(client, key, owner)).toBe(false);
    expect(await client.exists(key)).toBe(0);
  });

  it('releases the lock for its holder only: a hold that ran out frees nobody else', async () => {
    const lease = new RedisLease(60_000);
    const key = newKey();
    const first = (await lease.acquire(client, key))!;
    await client.del(key); // the first hold's lease ran out
    const second = (await lease.acquire(client, key))!;
    expect(second).not.toBe(first);
    expect(await lease.release(client, key, first)).toBe(false);
    expect(await client.get(key)).toBe(second);
    expect(await lease.release(client, key, second)).toBe(true);
    expect(await client.exists(key)).toBe(0);
    expect(await lease.release(client, key, second)).toBe(false);
  });

  it('gives two processes different owner ids', async () => {
    const key = newKey();
    const one = (await new RedisLease(60_000).acquire(client, key))!;
    await client.del(key);
    const other = (await new RedisLease(60_000).acquire(client, key))!;
    expect(other).not.toBe(one);
    expect(await compareAndDelete(client, key, one)).toBe(false);
    expect(await client.get(key)).toBe(other);
  });
});

describe('compareAndDelete', () => {
  it('deletes the key only while it holds the expected value', async () => {
    const key = newKey();
    await client.set(key, 'mine');
    expect(await compareAndDelete(client, key, 'theirs')).toBe(false);
    expect(await client.get(key)).toBe('mine');
    expect(await compareAndDelete(client, key, 'mine')).toBe(true);
    expect(await client.exists(key)).toBe(0);
    expect(await compareAndDelete(client, key, 'mine')).toBe(false);
  });
});
