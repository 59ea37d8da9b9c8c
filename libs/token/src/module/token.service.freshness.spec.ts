import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { flushPromises, StubStrategy } from '../testing-support/stub-strategy.js';
import { systemClock } from '../core/clock.js';
import { TokenService } from './token.service.js';

// On the system clock a cache hit reads a `fresh` flag instead of the clock; an unref'd timer clears
// it at the token's refresh time, and every 128th hit checks the clock in case no timer could run.
describe('TokenService freshness on the system clock', () => {
  let service: TokenService;
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_700_000_000_000, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  });
  afterEach(async () => {
    await service.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('stops serving a token as fresh once its refresh time has come', async () => {
    // 800 ms lifetime: margin capped at 200 ms, refresh due 400 ms after issue (no jitter).
    service = new TokenService({ random: () => 0 });
    const strategy = new StubStrategy(systemClock, 800);
    service.register('short', strategy);
    await service.getToken('short');
    await service.getToken('short');
    expect(strategy.calls).toBe(1);

    jest.advanceTimersByTime(399);
    expect((await service.getToken('short')).token).toBe('token-1');
    expect(strategy.calls).toBe(1);

    jest.advanceTimersByTime(1); // the freshness timer fires at 400 ms
    const served = await service.getToken('short'); // should refresh: served at once, refreshed behind
    expect(served.token).toBe('token-1');
    await flushPromises();
    expect(strategy.calls).toBe(2);
    expect((await service.getToken('short')).token).toBe('token-2');
  });

  it('notices a stale flag within 128 hits when no timer could run', async () => {
    service = new TokenService({ random: () => 0 });
    const strategy = new StubStrategy(systemClock, 800);
    service.register('short', strategy);
    const first = await service.getToken('short');
    // The clock moves past expiry but timers do not run, as in a long chain of awaits.
    jest.setSystemTime(first.expiresAt + 1);
    const served: string[] = [];
    for (let i = 0; i < 128; i++) served.push((await service.getToken('short')).token);
    expect(served).toContain('token-2');
    expect(served.filter((token) => token === 'token-1').length).toBeLessThan(128);
  });

  it('does not refresh a fresh token when called with options that do not force it', async () => {
    service = new TokenService();
    const strategy = new StubStrategy(systemClock, 3_600_000);
    service.register('long', strategy);
    await service.getToken('long');
    for (let i = 0; i < 5; i++) {
      await service.getToken('long', { forceRefresh: false });
      await service.getToken('long', {});
      await flushPromises();
    }
    expect(strategy.calls).toBe(1);
  });

  it('clears its timer on shutdown so it never keeps the process alive', async () => {
    service = new TokenService();
    service.register('long', new StubStrategy(systemClock, 3_600_000));
    await service.getToken('long');
    expect(jest.getTimerCount()).toBe(1);
    await service.onApplicationShutdown();
    expect(jest.getTimerCount()).toBe(0);
  });
});
