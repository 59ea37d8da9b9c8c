import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import type { TokenStore } from '../core/token-store.interface.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';
import { closeStrategy, RefreshShutdown, type RefreshShutdownDeps } from './token-refresh.shutdown.js';

const never = () => new Promise<never>(() => undefined);

/** A shutdown with a 5 s budget, a store and strategies whose `close()` are recorded. */
function setUp(overrides: Partial<RefreshShutdownDeps> = {}) {
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message) } as unknown as Logger;
  const closed: string[] = [];
  const store = {
    close: async () => void closed.push('store'),
  } as unknown as TokenStore;
  const strategy = (name: string): TokenStrategy => ({
    cacheKey: name,
    generate: never,
    close: () => void closed.push(name),
  });
  let timerStops = 0;
  const deps: RefreshShutdownDeps = {
    store,
    logger,
    shutdownTimeoutMs: 5_000,
    running: new Set(),
    stopTimer: () => void timerStops++,
    strategies: () => [strategy('a'), strategy('b')],
    ...overrides,
  };
  return { shutdown: new RefreshShutdown(deps), warnings, closed, timerStops: () => timerStops };
}

/** Whether `promise` has settled, after letting pending microtasks and due timers run. */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await jest.advanceTimersByTimeAsync(0);
  return done;
}

describe('RefreshShutdown', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('with nothing running, settles at once, stops the timer once, says nothing', async () => {
    const { shutdown, warnings, timerStops } = setUp();
    const first = shutdown.settle();
    expect(shutdown.settle()).toBe(first); // every hook shares the one wait
    expect(await settledYet(first)).toBe(true);
    expect(timerStops()).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('waits for the refreshes under way, failed ones included, and says nothing when they end in time', async () => {
    let finish!: () => void;
    const running = new Set<Promise<unknown>>([
      new Promise<void>((resolve) => (finish = resolve)),
      Promise.reject(new Error('refused')),
    ]);
    for (const promise of running) promise.catch(() => undefined);
    const { shutdown, warnings } = setUp({ running });
    const settled = shutdown.settle();
    await jest.advanceTimersByTimeAsync(4_000);
    expect(await settledYet(settled)).toBe(false);
    finish();
    expect(await settledYet(settled)).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('abandons a refresh that outlives the budget, exactly at the budget, and says so once', async () => {
    const { shutdown, warnings } = setUp({ running: new Set([never(), never()]) });
    const settled = shutdown.settle();
    await jest.advanceTimersByTimeAsync(4_999);
    expect(await settledYet(settled)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await settledYet(settled)).toBe(true);
    await shutdown.settle();
    expect(warnings).toEqual([
      'shutdown: 2 token refresh(es) still running after 5000 ms abandoned (a strategy that does not answer)',
    ]);
  });

  it('close() waits for the refreshes, then closes the store and every strategy', async () => {
    let finish!: () => void;
    const { shutdown, closed } = setUp({ running: new Set([new Promise<void>((r) => (finish = r))]) });
    const closing = shutdown.close();
    await jest.advanceTimersByTimeAsync(100);
    expect(closed).toEqual([]);
    finish();
    await closing;
    expect(closed.sort()).toEqual(['a', 'b', 'store']);
  });

  it('close() gets what is left of the budget that began at the first hook, not a budget of its own', async () => {
    const { shutdown } = setUp({
      running: new Set([never()]),
      store: { close: never } as unknown as TokenStore,
    });
    void shutdown.settle(); // the scheduler's hook
    await jest.advanceTimersByTimeAsync(5_000); // the refresh is abandoned at the budget
    const closing = shutdown.close(); // the service's hook: 0 ms left for a store that never closes
    expect(await settledYet(closing)).toBe(true);
  });

  it('close() with a store that never closes ends at the budget, not before', async () => {
    const { shutdown } = setUp({ store: { close: never } as unknown as TokenStore });
    const closing = shutdown.close();
    await jest.advanceTimersByTimeAsync(4_999);
    expect(await settledYet(closing)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await settledYet(closing)).toBe(true);
  });

  it('a store or strategy that fails to close is logged with its message, never thrown', async () => {
    const { shutdown, warnings } = setUp({
      store: { close: () => Promise.reject(new Error('store gone')) } as unknown as TokenStore,
      strategies: () => [
        {
          cacheKey: 'x',
          generate: never,
          close: () => {
            throw new Error('socket stuck');
          },
        },
        {
          cacheKey: 'y',
          generate: never,
          close: () => Promise.reject('not an Error'),
        },
        { cacheKey: 'z', generate: never }, // no close(): nothing to do
      ],
    });
    await expect(shutdown.close()).resolves.toBeUndefined();
    expect(warnings.sort()).toEqual([
      'could not close a token strategy: not an Error',
      'could not close a token strategy: socket stuck',
      'could not close the token store: store gone',
    ]);
  });
});

describe('closeStrategy', () => {
  it('calls close() once and resolves after it', async () => {
    const calls: string[] = [];
    const logger = { warn: (message: string) => calls.push(message) } as unknown as Logger;
    let finish!: () => void;
    const closing = closeStrategy(
      {
        cacheKey: 'a',
        generate: never,
        close: () => {
          calls.push('close');
          return new Promise<void>((resolve) => (finish = resolve));
        },
      },
      logger,
    );
    let done = false;
    void closing.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    finish();
    await closing;
    expect(calls).toEqual(['close']);
  });
});
