import type { TokenInfo } from './token-info.js';

/**
 * The second cache tier, shared by replicas. The in-process cache in `TokenService` always comes first;
 * a store is only asked on a miss or a refresh, so the hot path never waits on it.
 *
 * @publicApi
 */
export interface TokenStore {
  /**
   * Returns a token for `key`: one another replica already put in the store when `isUsable` accepts it,
   * otherwise the result of `generate()`, which the store runs at most once at a time for the whole fleet
   * and then shares. A store that cannot reach its backend must still call `generate()`.
   *
   * `generate` may be handed the shared entry it replaces (`previous`), so a strategy can spend the
   * newest refresh token of the fleet. `current`, when given, is the still-valid token this replica
   * serves: while another replica refreshes, a store returns it rather than make the caller wait.
   * Both are optional: a store may ignore them.
   */
  obtain(
    key: string,
    generate: (previous?: TokenInfo) => Promise<TokenInfo>,
    isUsable: (info: TokenInfo) => boolean,
    current?: TokenInfo,
  ): Promise<TokenInfo>;
  /**
   * Drops `key` from the shared tier and tells every replica to drop it too. With `onlyIfToken` (the
   * token an API just rejected), the shared entry is dropped only while it still holds that token.
   */
  invalidate(key: string, onlyIfToken?: string): Promise<void>;
  /** Called with a key another replica invalidated. */
  onInvalidate(listener: (key: string) => void): void;
  close(): Promise<void>;
}
