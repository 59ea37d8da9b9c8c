import type { ResolvedTokenConfig } from '../token-config.loader.js';
import { InvalidTokenOptionsError } from '../token.errors.js';
import type { TokenModuleOptions } from '../token.options.js';
import { MemoryTokenStore } from './memory-token.store.js';
import type { TokenStore } from './token-store.interface.js';

/** The store the options ask for: an instance as given, `memory` by default. */
export function createTokenStore(choice: TokenModuleOptions['store'], config: ResolvedTokenConfig): TokenStore {
  if (choice !== undefined && typeof choice === 'object') return choice;
  const kind = choice ?? config.store ?? 'memory';
  if (kind === 'memory') return new MemoryTokenStore();
  throw new InvalidTokenOptionsError(`token store "${kind}" is not available`, undefined, 'store');
}
