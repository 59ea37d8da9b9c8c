import type { TokenStore } from '../core/token-store.interface.js';
import type { TokenInfo } from '../core/token-info.js';

/**
 * A shared tier in memory, for tests of fleet behaviour without Redis: several `TokenService`s (or
 * apps) given the same instance share tokens as replicas sharing a Redis store do. A usable token in
 * the store is returned; otherwise one `generate()` per key runs at a time and its token is shared;
 * `invalidate` drops the key (only while it holds `onlyIfToken`, when given) and tells every service.
 * `obtains` and `invalidations` record the calls.
 *
 * @publicApi
 * @example
 * const store = new InMemoryTokenStore();
 * const replicaA = new TokenService({ store });
 * const replicaB = new TokenService({ store });
 */
export class InMemoryTokenStore implements TokenStore {
  /** Keys `obtain` was called with, in order. */
  readonly obtains: string[] = [];
  /** `[key, onlyIfToken]` of every `invalidate` call, in order. */
  readonly invalidations: Array<[string, string | undefined]> = [];
  readonly #tokens = new Map<string, TokenInfo>();
  readonly #generating = new Map<string, Promise<TokenInfo>>();
  readonly #listeners: Array<(key: string) => void> = [];

  /** The token the store holds for `key`, if any. */
  get(key: string): TokenInfo | undefined {
    return this.#tokens.get(key);
  }

  /** Puts a token in the store, as another replica would. */
  set(key: string, info: TokenInfo): void {
    this.#tokens.set(key, info);
  }

  async obtain(
    key: string,
    generate: (previous?: TokenInfo) => Promise<TokenInfo>,
    isUsable: (info: TokenInfo) => boolean,
  ): Promise<TokenInfo> {
    this.obtains.push(key);
    const stored = this.#tokens.get(key);
    if (stored !== undefined && isUsable(stored)) return stored;
    let running = this.#generating.get(key);
    if (running === undefined) {
      running = generate(stored).then(
        (info) => {
          this.#generating.delete(key);
          this.#tokens.set(key, info);
          return info;
        },
        (error: unknown) => {
          this.#generating.delete(key);
          throw error;
        },
      );
      this.#generating.set(key, running);
    }
    return running;
  }

  async invalidate(key: string, onlyIfToken?: string): Promise<void> {
    this.invalidations.push([key, onlyIfToken]);
    const stored = this.#tokens.get(key);
    if (stored === undefined || (onlyIfToken !== undefined && stored.token !== onlyIfToken)) return;
    this.#tokens.delete(key);
    for (const listener of this.#listeners) listener(key);
  }

  onInvalidate(listener: (key: string) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {}
}
