import { describe, expect, it } from '@jest/globals';
import { SchedulerRegistry } from '@nestjs/schedule';
import { deferred, flushPromises } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import { TokenAcquisitionError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenRefreshScheduler } from './token-refresh.scheduler.js';
import { TokenService } from './token.service.js';

const HOUR = 3_600_000;

describe('TokenService robustness', () => {
  it('a caller arriving after invalidate() never gets the token of a refresh that began before it', async () => {
    const service = new TokenService();
    const gates: Array<() => void> = [];
    let minted = 0;
    service.register('p', {
      cacheKey: 'p',
      generate: () =>
        new Promise<TokenInfo>((resolve) =>
          gates.push(() => resolve(new TokenInfo({ token: `t${++minted}`, expiresAt: Date.now() + HOUR }))),
        ),
    });
    const before = service.getToken('p');
    await flushPromises();
    await service.invalidate('p'); // e.g. the API just rejected the token this refresh may bring back
    const after = service.getToken('p');
    await flushPromises();
    gates.forEach((open) => open());
    expect((await before).token).toBe('t1');
    // The refresh for callers after the eviction queues behind the one it let go (at most one
    // refresh running per provider): it starts once that one has ended.
    await flushPromises();
    expect(gates).toHaveLength(2);
    gates[1]();
    expect((await after).token).toBe('t2');
    expect(service.getTokenInfo('p')?.token).toBe('t2');
    // The evicted refresh is neither stored nor counted.
    expect(service.getStats().tokens.p.refreshes).toBe(1);
    await service.onApplicationShutdown();
  });

  it('a strategy that never answers fails after refreshTimeoutMs; the sweep and other providers go on', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const service = new TokenService({ clock, random: () => 0, refreshTimeoutMs: 20 });
    let okCalls = 0;
    let hangCalls = 0;
    const token = (name: string) =>
      new TokenInfo({ token: name, issuedAt: clock.now(), expiresAt: clock.now() + 600_000 });
    service.register('ok', { cacheKey: 'ok', generate: async () => token(`ok${++okCalls}`) });
    service.register('hang', {
      cacheKey: 'hang',
      generate: () => (hangCalls++ === 0 ? Promise.resolve(token('h')) : new Promise<TokenInfo>(() => {})),
    });
    await service.getTokens(['ok', 'hang']);
    const scheduler = new TokenRefreshScheduler(service, new SchedulerRegistry(), { enabled: false });

    clock.advance(400_000); // both due
    await scheduler.sweep(30_000); // settles: the hung refresh times out
    expect(service.getStats().tokens.hang).toMatchObject({ consecutiveFailures: 1, degraded: true });
    expect(okCalls).toBe(2);

    clock.advance(400_000); // ok is due again
    await scheduler.sweep(30_000);
    expect(okCalls).toBe(3);
    expect(scheduler.skippedSweeps).toBe(0);
    await expect(scheduler.beforeApplicationShutdown()).resolves.toBeUndefined();
    await service.onApplicationShutdown();
  });

  it('a caller waiting on a strategy that never answers gets a TokenAcquisitionError', async () => {
    const service = new TokenService({ refreshTimeoutMs: 20 });
    service.register('hang', { cacheKey: 'hang', generate: () => new Promise<TokenInfo>(() => {}) });
    const error = await service.getToken('hang').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenAcquisitionError);
    expect((error as Error).message).toMatch(/did not answer within 20 ms/);
  });

  it('shutdown does not wait forever for a refresh in flight', async () => {
    const service = new TokenService({ refreshTimeoutMs: 3_600_000 });
    service.register('hang', { cacheKey: 'hang', generate: () => deferred<TokenInfo>().promise });
    void service.getToken('hang').catch(() => undefined);
    await flushPromises();
    const closed = service.onApplicationShutdown().then(() => 'closed');
    await expect(closed).resolves.toBe('closed'); // bounded by TOKEN_DEFAULTS.shutdownTimeoutMs
  }, 15_000);

  it('the sweep never replaces a token before half its life, even one shorter than the sweep interval', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const service = new TokenService({ clock, random: () => 0 });
    let calls = 0;
    service.register('short', {
      cacheKey: 'short',
      generate: async () =>
        new TokenInfo({ token: `s${++calls}`, issuedAt: clock.now(), expiresAt: clock.now() + 10_000 }),
    });
    await service.getToken('short');
    clock.advance(100);
    await Promise.all(service.refreshDue(30_000)); // a 30 s sweep interval, a 10 s token
    expect(calls).toBe(1);
    clock.advance(4_900); // half its life
    await Promise.all(service.refreshDue(30_000));
    expect(calls).toBe(2);
  });

  it('keeps the most recently used per-call variants when there are too many', async () => {
    const service = new TokenService({ maxVariantsPerProvider: 2 });
    const minted: string[] = [];
    const strategyFor = (tenant: string) => ({
      cacheKey: `t:${tenant}`,
      generate: async () => {
        minted.push(tenant);
        return new TokenInfo({ token: `${tenant}-${minted.length}`, expiresAt: Date.now() + HOUR });
      },
    });
    service.register('multi', {
      ...strategyFor('home'),
      withParameters: ({ tenant }) => strategyFor(tenant!),
    });
    for (const tenant of ['a', 'b', 'a', 'c', 'a', 'b']) await service.getToken('multi', { tenant });
    // 'a' stays cached throughout; 'b' was the least recently used when 'c' came, and is fetched again.
    expect(minted).toEqual(['a', 'b', 'c', 'b']);
    await service.onApplicationShutdown();
  });
});
