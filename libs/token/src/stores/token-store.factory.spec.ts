import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { MemoryTokenStore } from './memory-token.store.js';
import { RedisTokenStore } from './redis-token.store.js';
import { createTokenStore } from './token-store.factory.js';

describe('createTokenStore', () => {
  it('is memory by default and passes an instance through', async () => {
    expect(await createTokenStore(undefined, {})).toBeInstanceOf(MemoryTokenStore);
    const own = new MemoryTokenStore();
    expect(await createTokenStore(own, { store: 'redis' })).toBe(own);
  });

  it('builds the Redis store from the `redis` section', async () => {
    const store = await createTokenStore('redis', {
      redis: {
        url: 'redis://127.0.0.1:6379',
        encryptionKeys: [{ kid: 'k', key: randomBytes(32).toString('base64') }],
      },
    });
    expect(store).toBeInstanceOf(RedisTokenStore);
    await store.close();
  });

  it('refuses `redis` without encryption keys, naming the field', async () => {
    const attempt = () => createTokenStore(undefined, { store: 'redis' });
    await expect(attempt()).rejects.toThrow(InvalidTokenOptionsError);
    await expect(attempt()).rejects.toThrow('"redis.encryptionKeys"');
  });
});
