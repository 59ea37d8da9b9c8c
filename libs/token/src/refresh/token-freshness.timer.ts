import { systemClock, type Clock } from '../clock.js';
import type { TokenCacheEntry } from './token-cache-entry.js';

/** Longest the timer runs before it looks at the clock again (a wall-clock jump, a very long lifetime). */
const MAX_TIMER_DELAY_MS = 60_000;

/**
 * Keeps `entry.fresh` true from a token's arrival until its refresh time, so a cache hit reads a
 * flag instead of the clock: on this kind of VM `Date.now()` costs as much as the rest of a hit.
 * One unref'd timer for the whole service, due at the earliest refresh time. Only on the system
 * clock; with any other clock the flag stays false and hits compare times.
 */
export class FreshnessTimer {
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When the timer fires; Infinity when it is not armed. */
  private dueAt = Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly entries: () => Iterable<TokenCacheEntry>,
  ) {}

  /** Marks a freshly stored token fresh until its `refreshAt`. */
  track(entry: TokenCacheEntry, now: number): void {
    entry.fresh = this.clock === systemClock && now < entry.refreshAt;
    if (entry.fresh && entry.refreshAt < this.dueAt) this.arm(entry.refreshAt, now);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = Infinity;
  }

  private arm(at: number, now: number): void {
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => this.expire(), Math.min(Math.max(at - now, 0), MAX_TIMER_DELAY_MS));
    this.timer.unref();
  }

  /** Clears `fresh` on every entry whose refresh time has come, and re-arms for the next one. */
  private expire(): void {
    this.timer = undefined;
    this.dueAt = Infinity;
    const now = this.clock.now();
    let next = Infinity;
    for (const entry of this.entries()) {
      if (!entry.fresh) continue;
      if (now >= entry.refreshAt) entry.fresh = false;
      else if (entry.refreshAt < next) next = entry.refreshAt;
    }
    if (next !== Infinity) this.arm(next, now);
  }
}
