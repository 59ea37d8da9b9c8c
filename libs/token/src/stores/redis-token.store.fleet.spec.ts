import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { deferred } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import { tokenConfigFromEnv } from '../config/token-config.loader.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenService } from '../module/token.service.js';
import { RedisKeys } from './redis-keys.js';
import { redisStoreOptionsSchema, type RedisStoreOptions } from '../config/redis-store.options.js';
import { RedisTokenStore } from './redis-token.store.js';
import { TokenEncryption } from './token-encryption.js';

/** Lease renewal, serving a held token, the shared entry handed to generate(), keys and rotation. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const keyA = { kid: 'a', key: randomBytes(32).toString('base64') };
const keyB = { kid: 'b', key: randomBytes(32).toString('base64') };
const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
const stores: RedisTokenStore[] = [];

function newStore(prefix: string, options: Partial<RedisStoreOptions> = {}): RedisTokenStore {
  const store = new RedisTokenStore({
    url: REDIS_URL,
    keyPrefix: prefix,
    encryptionKeys: [keyA],
    // The 100 ms default budget is a production figure: on a loaded test machine one Redis round trip
    // can outlast it, and the store then (rightly) works on its own, which is not what these tests check.
    budgetMs: 5_000,
    ...options,
  });
  stores.push(store);
  return store;
}
const prefixes: string[] = [];
const newPrefix = () => {
  prefixes.push(`ntm-test:${randomUUID()}:`);
  return prefixes[prefixes.length - 1];
};
const mint = (extra?: Record<string, unknown>) =>
  new TokenInfo({ token: `token-${randomUUID()}`, expiresAt: Date.now() + 60_000, extra });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const leaseHeld = async (prefix: string) => {
  while ((await admin.exists(`${prefix}lease:svc`)) === 0) await sleep(5);
};

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

describe('RedisTokenStore lease and sharing', () => {
  it('renews the lease while a slow token request runs: nobody else fetches meanwhile', async () => {
    const prefix = newPrefix();
    // Renewed every third of a lease: only a stall of this process longer than two thirds of one
    // (1.3 s) could lose it, which a loaded machine does not reach; without renewal it is gone in 2 s.
    const leaseMs = 2_000;
    const [holder, other] = [newStore(prefix, { leaseMs }), newStore(prefix, { leaseMs })];
    const gate = deferred<void>();
    let calls = 0;
    const generate = async () => {
      calls++;
      await gate.promise;
      return mint();
    };
    const first = holder.obtain('svc', generate, () => true);
    await leaseHeld(prefix);
    const waiting = other.obtain('svc', generate, () => true);
    await sleep(3 * leaseMs); // three leases long
    gate.resolve();
    const [a, b] = await Promise.all([first, waiting]);
    expect(calls).toBe(1);
    expect(b.token).toBe(a.token);
  });

  it('serves the still-valid token a replica holds instead of waiting on another one’s lease', async () => {
    const prefix = newPrefix();
    await admin.set(`${prefix}lease:svc`, 'another-replica', 'PX', 60_000);
    const held = mint();
    let calls = 0;
    const got = await newStore(prefix).obtain(
      'svc',
      async () => (calls++, mint()),
      () => false,
      held,
    );
    expect(got).toBe(held);
    expect(calls).toBe(0);
  });

  it('a caller inside its margin with a valid token is served at once while another replica holds the lease', async () => {
    const prefix = newPrefix();
    // The service's clock moves by hand into the margin; the token lives a real minute, so the store
    // (which reads the wall clock) still sees it valid however slow this machine is.
    const clock = new ManualClock(Date.now());
    const waitForPeerMs = 10_000;
    const service = new TokenService({
      store: newStore(prefix, { waitForPeerMs }),
      safetyMarginMs: 10_000,
      clock,
    });
    let calls = 0;
    service.register('svc', {
      cacheKey: 'svc',
      generate: async () => (
        calls++,
        new TokenInfo({ token: `t-${calls}`, expiresAt: clock.now() + 60_000 })
      ),
    });
    const first = await service.getToken('svc');
    await admin.set(`${prefix}lease:svc`, 'another-replica', 'PX', 60_000);
    clock.set(first.expiresAt - 5_000); // inside the 10 s margin, still valid
    const startedAt = Date.now();
    const served = await service.getToken('svc');
    const waitedMs = Date.now() - startedAt;
    await service.onApplicationShutdown();
    // Waiting on the lease would last waitForPeerMs and then fetch (calls 2).
    expect({ token: served.token, calls, waitedUnderHalfThePeerWait: waitedMs < waitForPeerMs / 2 }).toEqual({
      token: first.token,
      calls: 1,
      waitedUnderHalfThePeerWait: true,
    });
  });

  it('waits for the holder when the token it holds has expired', async () => {
    const prefix = newPrefix();
    await admin.set(`${prefix}lease:svc`, 'another-replica', 'PX', 60_000);
    const expired = new TokenInfo({ token: 'old', issuedAt: Date.now() - 2_000, expiresAt: Date.now() - 1 });
    const fresh = mint();
    const got = await newStore(prefix, { waitForPeerMs: 100 }).obtain(
      'svc',
      async () => fresh,
      () => false,
      expired,
    );
    expect(got).toBe(fresh);
  });

  it('hands the shared entry being replaced to generate(), refresh token included', async () => {
    const prefix = newPrefix();
    const store = newStore(prefix);
    await store.obtain(
      'svc',
      async () => mint({ refresh_token: 'rt-newest' }),
      () => true,
    );
    let previous: TokenInfo | undefined;
    await newStore(prefix).obtain(
      'svc',
      async (given) => ((previous = given), mint()),
      () => false,
    );
    expect(previous?.extra.refresh_token).toBe('rt-newest');
  });
});

describe('key rotation with a decrypt-only key', () => {
  it('a decrypt-only key reads entries but never writes one', async () => {
    const prefix = newPrefix();
    const stepOne = newStore(prefix, { encryptionKeys: [keyA, { ...keyB, decryptOnly: true }] });
    await stepOne.obtain(
      'svc',
      async () => mint(),
      () => true,
    );
    const header = JSON.parse(
      Buffer.from((await admin.get(`${prefix}token:svc`))!.split('.')[0], 'base64url').toString(),
    ) as { kid: string };
    expect(header.kid).toBe('a');
    expect(new TokenEncryption([keyA, { ...keyB, decryptOnly: true }]).currentKid).toBe('a');
    expect(new TokenEncryption([{ ...keyA, decryptOnly: true }, keyB]).currentKid).toBe('b');

    // Step 2 on one replica: it writes with the new key, and a replica still on step 1 reads it.
    const stepTwo = newStore(prefix, { encryptionKeys: [keyB, keyA] });
    const written = await stepTwo.obtain(
      'svc',
      async () => mint(),
      () => false,
    );
    let calls = 0;
    const read = await stepOne.obtain(
      'svc',
      async () => (calls++, mint()),
      () => true,
    );
    expect(calls).toBe(0);
    expect(read.token).toBe(written.token);
  });

  it('refuses a key set whose every key is decrypt-only, naming the field', () => {
    const result = redisStoreOptionsSchema.safeParse({ encryptionKeys: [{ ...keyA, decryptOnly: true }] });
    expect(result.error?.issues[0].path).toEqual(['encryptionKeys']);
  });
});

describe('topology options and key names', () => {
  it.each([
    [{ url: REDIS_URL, cluster: { nodes: ['127.0.0.1:7000'] } }, ['cluster']],
    [{ host: 'redis', sentinel: { sentinels: ['127.0.0.1:26379'], name: 'main' } }, ['sentinel']],
    [{ cluster: { nodes: [] } }, ['cluster', 'nodes']],
    [{ cluster: { nodes: ['no-port'] } }, ['cluster', 'nodes', 0]],
    [{ sentinel: { sentinels: ['127.0.0.1:26379'] } }, ['sentinel', 'name']],
    [{ keyPrefix: 'app{1}:' }, ['keyPrefix']],
  ])('refuses %j, naming %j', (options, path) => {
    const result = redisStoreOptionsSchema.safeParse({ encryptionKeys: [keyA], ...options });
    expect(result.error?.issues[0].path).toEqual(path);
  });

  /** What Redis Cluster hashes: the part between the first `{` and the next `}`, if not empty. */
  const hashedPart = (key: string) => {
    const open = key.indexOf('{');
    const close = open < 0 ? -1 : key.indexOf('}', open + 1);
    return close > open + 1 ? key.slice(open + 1, close) : key;
  };

  it('on a cluster, a provider’s token and lease share a hash slot, whatever its cache key', () => {
    const keys = new RedisKeys('ntm:', true);
    for (const cacheKey of ['fleet:api', 'oauth2:https://a/{tenant}/token', 'x}y{z', 'jwt:ak']) {
      expect(hashedPart(keys.lease(cacheKey))).toBe(hashedPart(keys.token(cacheKey)));
      expect(hashedPart(keys.token(cacheKey)).length).toBeGreaterThan(0);
    }
    expect(new RedisKeys('ntm:', false).token('fleet:api')).toBe('ntm:token:fleet:api');
  });

  it('reads a cluster, a sentinel, the budget and decrypt-only keys from environment variables', () => {
    const keys = JSON.stringify([keyA, { ...keyB, decryptOnly: true }]);
    const cluster = tokenConfigFromEnv({
      TOKEN__REDIS__CLUSTER__NODES: '["10.0.0.1:6379","10.0.0.2:6379"]',
      TOKEN__REDIS__BUDGET_MS: '150',
      TOKEN__REDIS__ENCRYPTION_KEYS: keys,
    }).redis;
    expect(redisStoreOptionsSchema.parse(cluster)).toMatchObject({
      cluster: { nodes: ['10.0.0.1:6379', '10.0.0.2:6379'] },
      budgetMs: 150,
      encryptionKeys: [{ kid: 'a' }, { kid: 'b', decryptOnly: true }],
    });
    const sentinel = tokenConfigFromEnv({
      TOKEN__REDIS__SENTINEL: '{"sentinels":["10.0.0.1:26379"],"name":"mymaster"}',
      TOKEN__REDIS__ENCRYPTION_KEYS: keys,
    }).redis;
    expect(redisStoreOptionsSchema.parse(sentinel)).toMatchObject({
      sentinel: { sentinels: ['10.0.0.1:26379'], name: 'mymaster' },
    });
  });
});
