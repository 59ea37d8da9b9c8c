import { describe, expect, it, jest } from '@jest/globals';
import { TokenInfo } from '../core/token-info.js';
import { MemoryTokenStore } from './memory-token.store.js';

describe('MemoryTokenStore', () => {
  it('obtains by running generate, once per call, and passes its token or its failure on', async () => {
    const store = new MemoryTokenStore();
    const token = new TokenInfo({ token: 'memory-store-token', expiresAt: Date.now() + 60_000 });
    const generate = jest.fn(() => Promise.resolve(token));
    await expect(store.obtain('svc', generate)).resolves.toBe(token);
    await expect(store.obtain('svc', generate)).resolves.toBe(token);
    expect(generate).toHaveBeenCalledTimes(2);
    const failure = new Error('issuer down');
    await expect(store.obtain('svc', () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('has nothing to invalidate, signal or close', async () => {
    const store = new MemoryTokenStore();
    await expect(store.invalidate()).resolves.toBeUndefined();
    expect(store.onInvalidate()).toBeUndefined();
    await expect(store.close()).resolves.toBeUndefined();
  });
});
