import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ManualClock, systemClock } from '../core/clock.js';
import type { ClockSample } from './token-clock.sample.js';
import { FreshnessTimer, MAX_TIMER_DELAY_MS } from './token-freshness.timer.js';
import type { Schedulable, TokenRefreshSchedule } from './token-refresh.schedule.js';

const T0 = 1_000_000;

/** A timer over a schedule that records each promotion; `next` is what the schedule says is due next. */
function setUp(clock = systemClock) {
  const promotions: number[] = [];
  let invalidations = 0;
  const schedule = {
    nextAt: Infinity,
    promote: (now: number) => {
      promotions.push(now - T0);
      return 0;
    },
  };
  const sample = { invalidate: () => void invalidations++ } as unknown as ClockSample;
  const timer = new FreshnessTimer(clock, schedule as unknown as TokenRefreshSchedule<Schedulable>, sample);
  return { timer, schedule, promotions, invalidations: () => invalidations };
}

describe('FreshnessTimer', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('fires once at the instant it was armed for: drops the clock sample and promotes what is due', async () => {
    const { timer, promotions, invalidations } = setUp();
    timer.onArmed(T0 + 1_000);
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(999);
    expect(promotions).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(promotions).toEqual([1_000]);
    expect(invalidations()).toBe(1);
    expect(jest.getTimerCount()).toBe(0); // nothing else is due: not armed again
  });

  it('an earlier instant re-arms it; a later one leaves it', async () => {
    const { timer, promotions } = setUp();
    timer.onArmed(T0 + 5_000);
    timer.onArmed(T0 + 2_000); // earlier: fires at 2 s instead
    timer.onArmed(T0 + 3_000); // later than what it fires for: no change
    timer.onArmed(T0 + 2_000); // the same instant: no change
    expect(jest.getTimerCount()).toBe(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(promotions).toEqual([2_000]);
  });

  it('arms again for what the schedule has next, once it fired', async () => {
    const { timer, schedule, promotions } = setUp();
    timer.onArmed(T0 + 1_000);
    schedule.nextAt = T0 + 4_000;
    await jest.advanceTimersByTimeAsync(1_000);
    schedule.nextAt = Infinity;
    await jest.advanceTimersByTimeAsync(2_999);
    expect(promotions).toEqual([1_000]);
    await jest.advanceTimersByTimeAsync(1);
    expect(promotions).toEqual([1_000, 4_000]);
    // After it fired, any instant arms it again (it is not armed for anything).
    timer.onArmed(T0 + 9_000);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(promotions).toEqual([1_000, 4_000, 9_000]);
  });

  it(`sleeps at most ${MAX_TIMER_DELAY_MS} ms, then looks again`, async () => {
    const { timer, schedule, promotions } = setUp();
    schedule.nextAt = T0 + 150_000;
    timer.onArmed(T0 + 150_000);
    await jest.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS - 1);
    expect(promotions).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(promotions).toEqual([60_000]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(promotions).toEqual([60_000, 120_000]);
    await jest.advanceTimersByTimeAsync(30_000);
    expect(promotions).toEqual([60_000, 120_000, 150_000]);
  });

  it('an instant already past fires on the next timer tick', async () => {
    const { timer, promotions } = setUp();
    timer.onArmed(T0 - 5_000);
    await jest.advanceTimersByTimeAsync(0);
    expect(promotions).toEqual([0]);
  });

  it('never holds the process open', () => {
    const { timer } = setUp();
    const spy = jest.spyOn(globalThis, 'setTimeout');
    timer.onArmed(T0 + 1_000);
    const handle = spy.mock.results[0].value as NodeJS.Timeout;
    spy.mockRestore();
    expect(handle.hasRef()).toBe(false);
    timer.stop();
  });

  it('once stopped, fires no more and ignores new instants', async () => {
    const { timer, promotions } = setUp();
    timer.onArmed(T0 + 1_000);
    timer.stop();
    expect(jest.getTimerCount()).toBe(0);
    timer.onArmed(T0 + 500);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(promotions).toEqual([]);
  });

  it('does nothing on any clock but the system one (every call reads that clock anyway)', async () => {
    const { timer, promotions } = setUp(new ManualClock(T0));
    timer.onArmed(T0 + 1_000);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(promotions).toEqual([]);
  });
});
