import type { TokenInfo } from '../core/token-info.js';
import type { TokenStore } from '../core/token-store.interface.js';

/**
 * The default store: nothing beyond the process. `TokenService` already caches in memory and shares
 * one refresh per provider, so this store only runs `generate()`.
 *
 * @publicApi
 */
export class MemoryTokenStore implements TokenStore {
  obtain(_key: string, generate: () => Promise<TokenInfo>): Promise<TokenInfo> {
    return generate();
  }

  async invalidate(): Promise<void> {}

  onInvalidate(): void {}

  async close(): Promise<void> {}
}
