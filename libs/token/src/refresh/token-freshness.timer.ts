import { systemClock, type Clock } from '../core/clock.js';
import type { ClockSample } from './token-clock.sample.js';
import type { Schedulable, TokenRefreshSchedule } from './token-refresh.schedule.js';

/** Longest the timer sleeps before it looks at the clock again: its delay runs on the monotonic clock. */
export const MAX_TIMER_DELAY_MS = 60_000;

/**
 * One unref'd timer for the whole service, due at the schedule's earliest instant. When it fires it
 * drops the hot path's clock sample (a long chain of microtasks never ends its turn, so the sample
 * would not be taken again otherwise) and moves the entries that are due to the schedule's due list,
 * where the sweep finds them. It touches only those entries: O(log n) each, never a walk over fresh
 * tokens. Only on the system clock; with any other clock every call reads the clock anyway.
 */
export class FreshnessTimer {
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When the timer fires; Infinity when it is not armed. */
  private firesAt = Infinity;
  private readonly enabled: boolean;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly schedule: TokenRefreshSchedule<Schedulable>,
    private readonly sample: ClockSample,
  ) {
    this.enabled = clock === systemClock;
  }

  /** Called after the schedule got an entry for `at`: fires earlier if it has to. */
  onArmed(at: number): void {
    if (this.enabled && !this.stopped && at < this.firesAt) this.arm(at, this.clock.now());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firesAt = Infinity;
  }

  private arm(at: number, now: number): void {
    clearTimeout(this.timer);
    this.firesAt = at;
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(at - now, 0), MAX_TIMER_DELAY_MS));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.firesAt = Infinity;
    this.sample.invalidate();
    const now = this.clock.now();
    this.schedule.promote(now);
    const next = this.schedule.nextAt;
    if (next !== Infinity) this.arm(next, now);
  }
}
