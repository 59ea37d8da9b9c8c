import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { LogCapture } from '../testing-support/log-capture.js';
import { mintToken, RedisStoreFixture } from '../testing-support/redis-store-fixture.js';
import type { TokenInfo } from '../core/token-info.js';
import type { RedisTokenStore } from './redis-token.store.js';
import { RedisLease } from './redis-lease.js';
import { StoreSignals } from './redis-store.signals.js';

/**
 * obtain() path by path, against the Redis on 127.0.0.1:6379: what a caller is served, what it waits
 * for, what generate() is handed, and how a Redis failure at each step sends it to fetch on its own.
 */
const fixture = new RedisStoreFixture();

/** As a service with a 30 s margin asks: a token with less than 30 s left is not usable. */
const beyondMargin = (info: TokenInfo) => !info.isNearExpiry(30_000);
const nearExpiry = () => mintToken(5_000);

/** generate() that counts its calls and remembers what it was handed. */
function generator(fresh = mintToken()) {
  const calls: (TokenInfo | undefined)[] = [];
  return {
    fresh,
    calls,
    generate: async (previous?: TokenInfo) => (calls.push(previous), fresh),
  };
}

/** Runs `action` (once) when a store first waits on a peer's refresh, then lets the wait go on. */
function onFirstWait(action: () => Promise<void>): void {
  const original = StoreSignals.prototype.waitFor;
  let done = false;
  jest.spyOn(StoreSignals.prototype, 'waitFor').mockImplementation(async function (
    this: StoreSignals,
    key: string,
    timeoutMs: number,
  ) {
    if (!done) {
      done = true;
      await action();
    }
    return original.call(this, key, timeoutMs);
  });
}

/** Before the store's next lease attempt, `peer` stores `info` (it refreshed first), then the attempt goes on. */
function peerStoresBeforeLock(peer: RedisTokenStore, info: TokenInfo): void {
  const acquire = RedisLease.prototype.acquire;
  jest.spyOn(RedisLease.prototype, 'acquire').mockImplementationOnce(async function (
    this: RedisLease,
    client,
    lockKey,
  ) {
    await peer.obtain(
      'svc',
      async () => info,
      () => false,
    );
    return acquire.call(this, client, lockKey);
  });
}

/** Counts the reads (MGET) of `prefix`'s entry and makes those `failing` says fail. */
function failReads(prefix: string, failing: (read: number) => boolean): void {
  let reads = 0;
  fixture.failCommand('mget', (args) => args[0] === `${prefix}token:svc` && failing(++reads));
}

const holdLease = (prefix: string) =>
  fixture.admin.set(`${prefix}lease:svc`, 'another-replica', 'PX', 60_000);

afterEach(async () => {
  jest.restoreAllMocks();
  await fixture.closeAll();
});

afterAll(() => fixture.cleanup());

describe('RedisTokenStore.obtain: serving and waiting', () => {
  it('serves a usable shared token at once, even while another replica holds the lease', async () => {
    const prefix = fixture.newPrefix();
    const shared = mintToken();
    await fixture.writeEntry(prefix, 'svc', shared);
    await holdLease(prefix);
    const { generate, calls } = generator();
    // No time to wait for a peer at all: only serving the entry at once avoids a token request.
    const got = await fixture.newStore(prefix, { waitForPeerMs: 0 }).obtain('svc', generate, beyondMargin);
    expect(got.token).toBe(shared.token);
    expect(calls).toHaveLength(0);
  });

  it('looks at the shared entry again every quarter lease while a peer refreshes, at most every 250 ms', async () => {
    const waits: number[] = [];
    for (const leaseMs of [400, 2_000]) {
      const prefix = fixture.newPrefix();
      await holdLease(prefix);
      // Each wait ends at once with the holder gone: the next attempt takes the lease.
      jest.spyOn(StoreSignals.prototype, 'waitFor').mockImplementationOnce(async (_key, timeoutMs) => {
        waits.push(timeoutMs);
        await fixture.admin.del(`${prefix}lease:svc`);
      });
      const { generate, fresh } = generator();
      const store = fixture.newStore(prefix, { leaseMs, waitForPeerMs: 60_000 });
      expect(await store.obtain('svc', generate, beyondMargin)).toBe(fresh);
      jest.restoreAllMocks();
    }
    expect(waits).toEqual([100, 250]);
  });

  it('takes the token a peer stored while it waited, and makes no token request of its own', async () => {
    const prefix = fixture.newPrefix();
    await holdLease(prefix); // the peer keeps its lease: only reading the entry ends the wait
    const stored = mintToken();
    onFirstWait(() => fixture.writeEntry(prefix, 'svc', stored));
    const { generate, calls } = generator();
    const store = fixture.newStore(prefix, { leaseMs: 100, waitForPeerMs: 5_000 });
    expect((await store.obtain('svc', generate, beyondMargin)).token).toBe(stored.token);
    expect(calls).toHaveLength(0);
  });

  it('waits no longer than waitForPeerMs, then fetches its own token and says why', async () => {
    const logs = new LogCapture().install();
    try {
      const prefix = fixture.newPrefix();
      await holdLease(prefix);
      const { generate, fresh } = generator();
      const store = fixture.newStore(prefix, { waitForPeerMs: 50 });
      expect(await store.obtain('svc', generate, beyondMargin)).toBe(fresh);
      expect(logs.lines).toContain(
        'warn no shared token for "svc" within 50 ms; fetching one here RedisTokenStore',
      );
    } finally {
      logs.restore();
    }
  });
});

describe('RedisTokenStore.obtain: holding the lease', () => {
  it('serves the token a peer stored between its read and its lock instead of fetching one', async () => {
    const prefix = fixture.newPrefix();
    await fixture.writeEntry(prefix, 'svc', nearExpiry());
    const peer = fixture.newStore(prefix);
    const peers = mintToken();
    peerStoresBeforeLock(peer, peers); // the peer refreshes first
    const { generate, calls } = generator();
    const got = await fixture.newStore(prefix).obtain('svc', generate, beyondMargin);
    expect(got.token).toBe(peers.token);
    expect(calls).toHaveLength(0);
    expect(await fixture.admin.exists(`${prefix}lease:svc`)).toBe(0);
  });

  it('hands generate() the entry a peer stored between its read and its lock', async () => {
    const prefix = fixture.newPrefix();
    await fixture.writeEntry(prefix, 'svc', nearExpiry());
    const peer = fixture.newStore(prefix);
    const peers = nearExpiry();
    peerStoresBeforeLock(peer, peers); // the peer refreshes first
    const { generate, calls, fresh } = generator();
    expect(await fixture.newStore(prefix).obtain('svc', generate, beyondMargin)).toBe(fresh);
    expect(calls.map((previous) => previous?.token)).toEqual([peers.token]);
  });

  it('renews the lease every third of it while generate() runs, and stops once it returned', async () => {
    const setInterval = jest.spyOn(globalThis, 'setInterval');
    const clearInterval = jest.spyOn(globalThis, 'clearInterval');
    const prefix = fixture.newPrefix();
    const { generate, fresh } = generator();
    expect(await fixture.newStore(prefix, { leaseMs: 3_000 }).obtain('svc', generate, beyondMargin)).toBe(
      fresh,
    );
    const renewal = setInterval.mock.calls.findIndex(([, everyMs]) => everyMs === 1_000);
    expect(renewal).toBeGreaterThanOrEqual(0);
    expect(clearInterval).toHaveBeenCalledWith(setInterval.mock.results[renewal].value as NodeJS.Timeout);
  });
});

describe('RedisTokenStore.obtain: Redis failing at one step', () => {
  it('fetches on its own when the first read fails, and stores nothing', async () => {
    const prefix = fixture.newPrefix();
    failReads(prefix, (read) => read === 1);
    const { generate, calls, fresh } = generator();
    expect(await fixture.newStore(prefix).obtain('svc', generate, beyondMargin)).toBe(fresh);
    expect(calls).toEqual([undefined]);
    expect(await fixture.admin.exists(`${prefix}token:svc`, `${prefix}lease:svc`)).toBe(0);
  });

  it('fetches on its own when taking the lease fails, and leaves the shared entry alone', async () => {
    const prefix = fixture.newPrefix();
    await fixture.writeEntry(prefix, 'svc', nearExpiry());
    const before = await fixture.admin.get(`${prefix}token:svc`);
    fixture.failCommand('set', (args) => args[0] === `${prefix}lease:svc`);
    const { generate, calls, fresh } = generator();
    expect(await fixture.newStore(prefix).obtain('svc', generate, beyondMargin)).toBe(fresh);
    expect(calls).toHaveLength(1);
    expect(await fixture.admin.get(`${prefix}token:svc`)).toBe(before);
  });

  it('fetches on its own at once when a read fails while it waits on a peer', async () => {
    const prefix = fixture.newPrefix();
    await holdLease(prefix);
    failReads(prefix, (read) => read >= 2);
    const { generate, calls, fresh } = generator();
    // A minute to wait for the peer: only giving up on the failed read ends this in time.
    const store = fixture.newStore(prefix, { leaseMs: 100, waitForPeerMs: 60_000 });
    expect(await store.obtain('svc', generate, beyondMargin)).toBe(fresh);
    expect(calls).toHaveLength(1);
  });

  it('hands generate() the newest entry it saw while waiting when its read under the lease fails', async () => {
    const prefix = fixture.newPrefix();
    await fixture.writeEntry(prefix, 'svc', nearExpiry());
    await holdLease(prefix);
    const peers = nearExpiry();
    // While it waits, the peer stores a token (not usable here either) and frees its lease.
    onFirstWait(async () => {
      await fixture.writeEntry(prefix, 'svc', peers);
      await fixture.admin.del(`${prefix}lease:svc`);
    });
    failReads(prefix, (read) => read === 3); // first read, read after the wait, read under the lease
    const { generate, calls, fresh } = generator();
    const store = fixture.newStore(prefix, { leaseMs: 100, waitForPeerMs: 60_000 });
    expect(await store.obtain('svc', generate, beyondMargin)).toBe(fresh);
    expect(calls.map((previous) => previous?.token)).toEqual([peers.token]);
  });
});
