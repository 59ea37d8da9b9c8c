/**
 * Where time comes from. Every expiry decision reads it, so tests can move time without fake timers.
 *
 * @publicApi
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The wall clock. Reads `Date.now` on each call, so fake timers in tests move it too. */
export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that only moves when told to; for tests.
 *
 * @publicApi
 */
export class ManualClock implements Clock {
  constructor(private current = Date.now()) {}

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(epochMs: number): void {
    this.current = epochMs;
  }
}
