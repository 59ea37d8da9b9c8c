import { describe, expect, it } from '@jest/globals';
import type { ResolvedTokenConfig } from '../config/token-config.loader.js';
import type { TokenModuleOptions } from '../config/token.options.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { MemoryTokenStore } from './memory-token.store.js';
import { createTokenStore } from './token-store.factory.js';

/** The store kinds the factory knows, which one wins, and how it refuses the others. */
async function refusal(choice: TokenModuleOptions['store'], config: ResolvedTokenConfig) {
  const error = await createTokenStore(choice, config).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenOptionsError);
  return error as InvalidTokenOptionsError;
}

describe('createTokenStore', () => {
  it('takes the option over the configuration', async () => {
    expect(await createTokenStore('memory', { store: 'redis' })).toBeInstanceOf(MemoryTokenStore);
    expect(await createTokenStore(undefined, { store: 'memory' })).toBeInstanceOf(MemoryTokenStore);
  });

  it('refuses a kind it does not know, naming it and the field, whether from the option or the configuration', async () => {
    const unknown = 'memcached' as unknown as TokenModuleOptions['store'];
    for (const error of [
      await refusal(unknown, {}),
      await refusal(undefined, { store: 'memcached' as ResolvedTokenConfig['store'] }),
    ]) {
      expect(error.message).toBe('token store "memcached" is not available');
      expect(error.field).toBe('store');
    }
  });

  it('refuses `redis` without a `redis` section, naming the encryption keys field', async () => {
    const error = await refusal('redis', {});
    expect(error.field).toBe('redis.encryptionKeys');
    expect(error.message).toBe(
      'token store "redis": "redis.encryptionKeys" must list at least one key (tokens are encrypted at rest)',
    );
  });
});
