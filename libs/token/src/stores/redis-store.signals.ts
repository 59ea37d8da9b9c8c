import { randomBytes } from 'node:crypto';
import type { Logger } from '@nestjs/common';

/** What replicas tell each other on the channel. Holds no token. */
interface StoreMessage {
  /** `set`: a new token was written; `invalidate`: drop the cached one. */
  t: 'set' | 'invalidate';
  /** The provider's cache key (never a secret). */
  k: string;
  /** The store that sent it. */
  o: string;
}

/**
 * The replicas' messages to each other: "a token was stored" wakes the replicas waiting for it,
 * "invalidate" reaches the service's listeners (except on the replica that sent it).
 */
export class StoreSignals {
  readonly #origin = randomBytes(8).toString('hex');
  readonly #listeners: ((key: string) => void)[] = [];
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(private readonly logger: Logger) {}

  /** The message announcing a new token (`set`) or an invalidation for `key`. */
  message(type: StoreMessage['t'], key: string): string {
    return JSON.stringify({ t: type, k: key, o: this.#origin } satisfies StoreMessage);
  }

  onInvalidate(listener: (key: string) => void): void {
    this.#listeners.push(listener);
  }

  receive(raw: string): void {
    let message: Partial<StoreMessage> | null;
    try {
      message = JSON.parse(raw) as Partial<StoreMessage> | null;
    } catch {
      return;
    }
    // `null` parses too; thrown here (in ioredis' socket handler), an error would end the process.
    if (typeof message?.k !== 'string') return;
    if (message.t === 'set') this.wake(message.k);
    // Our own invalidation already evicted here; acting on its echo would evict the token fetched since.
    if (message.t !== 'invalidate' || message.o === this.#origin) return;
    for (const listener of this.#listeners) {
      try {
        listener(message.k);
      } catch (error) {
        this.logger.error(`invalidation listener threw: ${(error as Error).message}`);
      }
    }
  }

  /** Resolves when a token for `key` is announced, or after `timeoutMs`. */
  waitFor(key: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let waiting = this.#waiters.get(key);
      if (waiting === undefined) this.#waiters.set(key, (waiting = new Set()));
      const set = waiting;
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#waiters.get(key) === set) this.#waiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      set.add(done);
    });
  }

  wake(key: string): void {
    for (const done of [...(this.#waiters.get(key) ?? [])]) done();
  }

  wakeAll(): void {
    for (const key of [...this.#waiters.keys()]) this.wake(key);
  }
}
