import { systemClock, type Clock } from '../core/clock.js';

/**
 * The service's clock as the hot path reads it: on the system clock, read once per turn of the event
 * loop (as libuv caches its loop time) and kept in `now` until the turn ends, so a cache hit
 * compares two numbers instead of calling `Date.now()`, which on a busy VM costs as much as the
 * rest of the hit. Because the sample is taken again in every turn, a wall clock that steps forward
 * (NTP step, VM resume) is seen by the first call after it, unlike a timer, whose delay runs on
 * the monotonic clock. With any other clock (`ManualClock` in tests) `now` stays Infinity and every
 * call reads the clock.
 */
export class ClockSample {
  /** The clock as read in this turn; Infinity when it must be read again. */
  now = Infinity;
  private readonly sampling: boolean;
  private expiring = false;
  private readonly expire = (): void => {
    this.expiring = false;
    this.now = Infinity;
  };

  constructor(private readonly clock: Clock) {
    this.sampling = clock === systemClock;
  }

  /** Reads the clock, and keeps the reading for the rest of this turn. */
  read(): number {
    const now = this.clock.now();
    if (this.sampling) {
      this.now = now;
      if (!this.expiring) {
        this.expiring = true;
        setImmediate(this.expire).unref();
      }
    }
    return now;
  }

  /** Forgets the reading, e.g. when a token's refresh time has come in a long chain of microtasks. */
  invalidate(): void {
    this.now = Infinity;
  }
}
