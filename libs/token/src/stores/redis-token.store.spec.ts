import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { deferred } from '../testing-support/stub-strategy.js';
import { LogCapture } from '../testing-support/log-capture.js';
import { RedisProxy } from '../testing-support/fleet-redis-proxy.js';
import { TokenInfo } from '../core/token-info.js';
import type { RedisStoreOptions } from '../config/redis-store.options.js';
import { RedisTokenStore } from './redis-token.store.js';
import { TokenEncryption } from './token-encryption.js';

/** These tests need the Redis on 127.0.0.1:6379 (CI starts one); each uses its own key prefix. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const keyA = { kid: 'a', key: randomBytes(32).toString('base64') };
const keyB = { kid: 'b', key: randomBytes(32).toString('base64') };

const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
const stores: RedisTokenStore[] = [];

/**
 * The 100 ms default budget is a production figure: on a loaded test machine one Redis round trip can
 * outlast it, and the store then (rightly) works on its own, which is not what most tests here look at.
 * Only the tests about the budget set one.
 */
const GENEROUS_BUDGET_MS = 5_000;

function newStore(prefix: string, options: Partial<RedisStoreOptions> = {}, client?: Redis): RedisTokenStore {
  const budget =
    options.budgetMs === undefined && options.commandTimeoutMs === undefined
      ? { budgetMs: GENEROUS_BUDGET_MS }
      : {};
  const store = new RedisTokenStore(
    { url: REDIS_URL, keyPrefix: prefix, encryptionKeys: [keyA], ...budget, ...options },
    client,
  );
  stores.push(store);
  return store;
}

const prefixes: string[] = [];
function newPrefix(): string {
  prefixes.push(`ntm-test:${randomUUID()}:`);
  return prefixes[prefixes.length - 1];
}

let minted = 0;
function mint(lifetimeMs = 60_000): TokenInfo {
  minted++;
  return new TokenInfo({ token: `token-${minted}-${randomUUID()}`, expiresAt: Date.now() + lifetimeMs });
}

const always = () => true;

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  // Only this file's prefixes: a second copy of the suite may be using the same Redis.
  for (const prefix of prefixes) {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await admin.quit();
});

describe('RedisTokenStore', () => {
  it('generates on a miss, stores the token encrypted, and a second replica reuses it', async () => {
    const prefix = newPrefix();
    const first = newStore(prefix);
    const token = mint();
    const generated = await first.obtain('svc', async () => token, always);
    expect(generated).toBe(token);

    const raw = await admin.get(`${prefix}token:svc`);
    expect(raw).not.toBeNull();
    expect(raw).not.toContain(token.token);
    expect(await admin.pttl(`${prefix}token:svc`)).toBeGreaterThan(0);
    expect(await admin.exists(`${prefix}lease:svc`)).toBe(0);

    let calls = 0;
    const shared = await newStore(prefix).obtain('svc', async () => (calls++, mint()), always);
    expect(calls).toBe(0);
    expect(shared.token).toBe(token.token);
    expect(shared.expiresAt).toBe(token.expiresAt);
  });

  it('refreshes when the shared token is not usable for the caller', async () => {
    const prefix = newPrefix();
    const store = newStore(prefix);
    await store.obtain('svc', async () => mint(), always);
    const next = mint();
    expect(
      await store.obtain(
        'svc',
        async () => next,
        () => false,
      ),
    ).toBe(next);
  });

  it('lets one replica refresh while the others wait for its token', async () => {
    const prefix = newPrefix();
    const [holder, ...others] = [newStore(prefix), newStore(prefix), newStore(prefix)];
    const gate = deferred<void>();
    let calls = 0;
    const generate = async () => {
      calls++;
      await gate.promise;
      return mint();
    };
    const first = holder.obtain('svc', generate, always);
    while ((await admin.exists(`${prefix}lease:svc`)) === 0) await new Promise((r) => setTimeout(r, 5));
    const waiting = others.flatMap((store) => [
      store.obtain('svc', generate, always),
      store.obtain('svc', generate, always),
    ]);
    gate.resolve();
    const results = await Promise.all([first, ...waiting]);
    expect(calls).toBe(1);
    expect(new Set(results.map((info) => info.token)).size).toBe(1);
  });

  it('takes over when the lock holder died and its lease ran out', async () => {
    const prefix = newPrefix();
    await admin.set(`${prefix}lease:svc`, 'a-dead-replica', 'PX', 300);
    const store = newStore(prefix, { leaseMs: 300 });
    let calls = 0;
    await store.obtain('svc', async () => (calls++, mint()), always);
    expect(calls).toBe(1);
    expect(await admin.get(`${prefix}lease:svc`)).toBeNull();
  });

  it('fetches locally once waitForPeerMs is over', async () => {
    const prefix = newPrefix();
    await admin.set(`${prefix}lease:svc`, 'a-stuck-replica', 'PX', 60_000);
    const store = newStore(prefix, { waitForPeerMs: 50 });
    const token = mint();
    expect(await store.obtain('svc', async () => token, always)).toBe(token);
    expect(await admin.get(`${prefix}lease:svc`)).toBe('a-stuck-replica');
  });

  it('releases the lock and passes the error on when generate() fails', async () => {
    const prefix = newPrefix();
    const store = newStore(prefix);
    await expect(
      store.obtain('svc', async () => Promise.reject(new Error('endpoint down')), always),
    ).rejects.toThrow('endpoint down');
    expect(await admin.exists(`${prefix}lease:svc`)).toBe(0);
    expect(await admin.exists(`${prefix}token:svc`)).toBe(0);
  });

  it('broadcasts invalidation to the other replicas, not back to itself', async () => {
    const prefix = newPrefix();
    const [a, b] = [newStore(prefix), newStore(prefix)];
    await a.obtain('svc', async () => mint(), always);
    const heardByA: string[] = [];
    const heardByB = deferred<string>();
    a.onInvalidate((key) => heardByA.push(key));
    b.onInvalidate((key) => heardByB.resolve(key));
    await b.obtain('svc', async () => mint(), always); // b's subscription is up once it has talked to Redis
    await waitForSubscribers(`${prefix}events`, 2);

    await a.invalidate('svc');
    expect(await heardByB.promise).toBe('svc');
    expect(heardByA).toEqual([]);
    expect(await admin.exists(`${prefix}token:svc`)).toBe(0);
  });

  it('with onlyIfToken, keeps a shared token that already replaced the rejected one', async () => {
    const prefix = newPrefix();
    const store = newStore(prefix);
    const current = await store.obtain('svc', async () => mint(), always);
    await store.invalidate('svc', 'an-older-token');
    expect(await admin.exists(`${prefix}token:svc`)).toBe(1);
    await store.invalidate('svc', current.token);
    expect(await admin.exists(`${prefix}token:svc`)).toBe(0);
  });

  it('with onlyIfToken, tells the other replicas nothing when the shared entry did not hold that token', async () => {
    const prefix = newPrefix();
    const [a, b] = [newStore(prefix), newStore(prefix)];
    const heardByB: string[] = [];
    const heardOther = deferred<void>();
    b.onInvalidate((key) => {
      heardByB.push(key);
      if (key === 'other') heardOther.resolve();
    });
    const current = await a.obtain('svc', async () => mint(), always);
    await b.obtain('svc', async () => mint(), always);
    await waitForSubscribers(`${prefix}events`, 2);

    await a.invalidate('svc', 'an-older-token'); // a late 401: the entry already holds a newer token
    await a.invalidate('gone', 'a-token'); // nothing shared under that key
    await a.invalidate('other'); // unconditional: always told; messages arrive in order
    await heardOther.promise;
    expect(heardByB).toEqual(['other']);
    expect(await admin.exists(`${prefix}token:svc`)).toBe(1);

    await a.invalidate('svc', current.token);
    await waitUntil(() => heardByB.includes('svc'));
    expect(heardByB).toEqual(['other', 'svc']);
  });

  it('reads entries written before a key rotation', async () => {
    const prefix = newPrefix();
    const token = await newStore(prefix, { encryptionKeys: [keyA] }).obtain(
      'svc',
      async () => mint(),
      always,
    );
    const rotated = newStore(prefix, { encryptionKeys: [keyB, keyA] });
    let calls = 0;
    expect((await rotated.obtain('svc', async () => (calls++, mint()), always)).token).toBe(token.token);
    expect(calls).toBe(0);
  });

  it('treats an entry it cannot decrypt as a miss, logs it once without the value, and replaces it', async () => {
    const logs = new LogCapture().install();
    try {
      const prefix = newPrefix();
      const old = await newStore(prefix, { encryptionKeys: [keyA] }).obtain(
        'svc',
        async () => mint(),
        always,
      );
      const stranger = newStore(prefix, { encryptionKeys: [keyB] });
      const fresh = mint();
      expect(await stranger.obtain('svc', async () => fresh, always)).toBe(fresh);
      const warnings = () => logs.lines.filter((line) => line.includes('cannot be decrypted')).length;
      expect(warnings()).toBe(1);
      // The key-A replica now meets the stranger's entry (its own one line), replaces it, and the
      // stranger meets a key-A entry again: no second line from the stranger.
      await newStore(prefix, { encryptionKeys: [keyA] }).obtain('svc', async () => mint(), always);
      expect(warnings()).toBe(2);
      await stranger.obtain('svc', async () => mint(), always);
      expect(warnings()).toBe(2);
      expect(logs.lines.join('\n')).not.toContain(old.token);
      expect(logs.lines.join('\n')).not.toContain(keyA.key);
    } finally {
      logs.restore();
    }
  });

  it('never fails a caller when Redis is unreachable: generates locally and reports degraded', async () => {
    const logs = new LogCapture().install();
    try {
      const store = newStore(newPrefix(), {
        url: `redis://127.0.0.1:${await closedPort()}`,
        commandTimeoutMs: 200,
      });
      const token = mint();
      expect(await store.obtain('svc', async () => token, always)).toBe(token);
      expect(await store.obtain('svc', async () => token, always)).toBe(token);
      await store.invalidate('svc');
      expect(store.degraded).toBe(true);
      expect(logs.lines.filter((line) => line.includes('redis unavailable'))).toHaveLength(1);
    } finally {
      logs.restore();
    }
  });

  it('never lets a hanging Redis hold a caller up: gives up after the command timeout and generates', async () => {
    const silent = createServer(() => {}); // accepts connections, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const store = newStore(newPrefix(), { url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 100 });
      const token = mint();
      expect(await store.obtain('svc', async () => token, always)).toBe(token);
      expect(store.degraded).toBe(true);
      await store.close();
    } finally {
      silent.close();
    }
  });

  it('works from an injected client without using it, and leaves it as it was on close', async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const store = newStore(newPrefix(), {}, client);
      const token = mint();
      expect(await store.obtain('svc', async () => token, always)).toBe(token);
      await store.close();
      expect(client.status).toBe('wait'); // lazy, never connected by the store
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it("gives an application's client's commands the store's safety options: a lease request lost with the connection is not sent again", async () => {
    const proxy = await RedisProxy.start();
    const client = new Redis(proxy.url); // an application's defaults: offline queue, resend on reconnect
    try {
      const prefix = newPrefix();
      const store = newStore(
        prefix,
        { commandTimeoutMs: 200, leaseMs: 60_000, reconnectMaxDelayMs: 100 },
        client,
      );
      await store.obtain('svc', async () => mint(), always);
      proxy.stallOn(`${prefix}lease:svc`);
      const local = mint();
      expect(
        await store.obtain(
          'svc',
          async () => local,
          () => false,
        ),
      ).toBe(local);
      expect(store.degraded).toBe(true);

      proxy.dropConnections();
      await waitUntil(() => !store.degraded && client.status === 'ready');
      await client.ping();
      await store.obtain('other', async () => mint(), always);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await admin.exists(`${prefix}lease:svc`)).toBe(0);
      expect(
        await store.obtain(
          'svc',
          async () => mint(),
          () => false,
        ),
      ).not.toBe(local);
    } finally {
      client.disconnect();
      await proxy.close();
    }
  });

  it("closes its own connections on an application's client and takes its listeners off it", async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    try {
      const events = ['ready', 'error', 'close', 'end', 'message'] as const;
      const before = events.map((event) => client.listenerCount(event));
      const store = newStore(newPrefix(), {}, client);
      await store.obtain('svc', async () => mint(), always);
      await store.close();
      await store.close();
      expect(store.connectionStatus).toEqual({ command: 'end', subscriber: 'end' });
      expect(events.map((event) => client.listenerCount(event))).toEqual(before);
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('treats an entry holding a malformed token as a miss', async () => {
    const prefix = newPrefix();
    const encryption = new TokenEncryption([keyA]);
    const garbage = { token: 'x', expiresAt: Date.now() + 60_000, tokenType: 42 } as unknown as TokenInfo;
    await admin.set(`${prefix}token:svc`, await encryption.encrypt('svc', garbage), 'PX', 60_000);
    const fresh = mint();
    expect(await newStore(prefix).obtain('svc', async () => fresh, always)).toBe(fresh);
  });

  it('closes both of its connections', async () => {
    const store = newStore(newPrefix());
    await store.obtain('svc', async () => mint(), always);
    await store.close();
    expect(store.connectionStatus).toEqual({ command: 'end', subscriber: 'end' });
    await store.close();
  });

  it('refuses to start without an encryption key, naming the field', () => {
    expect(() => new RedisTokenStore({ url: REDIS_URL } as RedisStoreOptions)).toThrow('"encryptionKeys"');
  });
});

async function waitForSubscribers(channel: string, count: number): Promise<void> {
  for (;;) {
    const [, subscribers] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
    if (subscribers >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls `condition` up to a deadline far above what it needs, a loaded machine included. */
async function waitUntil(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
