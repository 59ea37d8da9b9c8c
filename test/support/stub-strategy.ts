import type { Clock } from '../../libs/token/src/clock.js';
import { TokenInfo } from '../../libs/token/src/token-info.js';
import type { TokenStrategy } from '../../libs/token/src/token-strategy.interface.js';

/** A promise with its resolve/reject exposed. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A strategy that counts its calls and mints `token-1`, `token-2`, … with a fixed lifetime; `fail`
 * and `hold` make it fail or wait until released.
 */
export class StubStrategy implements TokenStrategy {
  calls = 0;
  fail: Error | undefined;
  private held: ReturnType<typeof deferred<void>> | undefined;

  constructor(
    readonly clock: Clock,
    readonly lifetimeMs: number,
    readonly cacheKey = 'stub',
  ) {}

  /** The next generate() calls wait until `release()`. */
  hold(): void {
    this.held = deferred<void>();
  }

  release(): void {
    const held = this.held;
    this.held = undefined;
    held?.resolve();
  }

  async generate(): Promise<TokenInfo> {
    this.calls++;
    const call = this.calls;
    if (this.held) await this.held.promise;
    if (this.fail) throw this.fail;
    const now = this.clock.now();
    return new TokenInfo({ token: `token-${call}`, issuedAt: now, expiresAt: now + this.lifetimeMs });
  }
}

/** Lets every queued promise callback run. */
export async function flushPromises(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
