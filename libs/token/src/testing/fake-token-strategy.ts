import { systemClock, type Clock } from '../core/clock.js';
import { TokenInfo } from '../core/token-info.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';

/**
 * A strategy for tests: counts its `generate()` calls and mints `token-1`, `token-2`, … with a fixed
 * lifetime read from `clock`. Set `fail` to make the next calls throw it; `hold()` makes them wait
 * until `release()`, to test what callers see while a refresh is under way.
 *
 * @publicApi
 * @example
 * const clock = new ManualClock();
 * const strategy = new FakeTokenStrategy(clock, 60_000);
 * TokenModule.forRoot({ clock, providers: { api: { type: 'custom', useFactory: () => strategy } } });
 */
export class FakeTokenStrategy implements TokenStrategy {
  /** `generate()` calls so far. */
  calls = 0;
  /** When set, `generate()` throws it (after counting the call). */
  fail: Error | undefined;
  #held: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(
    readonly clock: Clock = systemClock,
    readonly lifetimeMs = 3_600_000,
    readonly cacheKey = 'stub',
  ) {}

  /** The next `generate()` calls wait until {@link release}. */
  hold(): void {
    let resolve!: () => void;
    const promise = new Promise<void>((res) => (resolve = res));
    this.#held = { promise, resolve };
  }

  /** Lets the calls held by {@link hold} go on. */
  release(): void {
    const held = this.#held;
    this.#held = undefined;
    held?.resolve();
  }

  async generate(): Promise<TokenInfo> {
    this.calls++;
    const call = this.calls;
    if (this.#held) await this.#held.promise;
    if (this.fail) throw this.fail;
    const now = this.clock.now();
    return new TokenInfo({ token: `token-${call}`, issuedAt: now, expiresAt: now + this.lifetimeMs });
  }
}
