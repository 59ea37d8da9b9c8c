import { describe, expect, it } from '@jest/globals';
import { StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import type { TokenStore } from '../core/token-store.interface.js';
import type { TokenInfo } from '../core/token-info.js';
import { TokenService } from './token.service.js';

/** A shared tier in memory: what `obtain` finds, `isUsable` decides, as in the Redis store. */
class SharedStoreDouble implements TokenStore {
  shared: TokenInfo | undefined;
  readonly invalidations: Array<[string, string | undefined]> = [];
  async obtain(_key: string, generate: () => Promise<TokenInfo>, isUsable: (info: TokenInfo) => boolean) {
    if (this.shared !== undefined && isUsable(this.shared)) return this.shared;
    this.shared = await generate();
    return this.shared;
  }
  async invalidate(key: string, onlyIfToken?: string) {
    this.invalidations.push([key, onlyIfToken]);
  }
  onInvalidate() {}
  async close() {}
}

describe('TokenService with a shared store', () => {
  function setup() {
    const clock = new ManualClock(1_700_000_000_000);
    const store = new SharedStoreDouble();
    const service = new TokenService({ clock, store });
    const strategy = new StubStrategy(clock, 3_600_000, 'shared-key');
    service.register('p', strategy);
    return { store, service, strategy };
  }

  it('takes a fresh token another replica stored instead of fetching', async () => {
    const { store, service, strategy } = setup();
    await service.getToken('p');
    await service.invalidate('p');
    expect((await service.getToken('p')).token).toBe('token-1'); // from the store, no second fetch
    expect(strategy.calls).toBe(1);
    expect(store.invalidations).toEqual([['shared-key', undefined]]);
  });

  it('a forced refresh never takes back, from the store, the token it replaces', async () => {
    const { service, strategy } = setup();
    const first = await service.getToken('p');
    const forced = await service.refreshToken('p');
    expect(forced.token).not.toBe(first.token);
    expect(strategy.calls).toBe(2);
  });

  it('passes onlyIfToken to the store, so a late 401 cannot evict a replacement elsewhere', async () => {
    const { store, service } = setup();
    const first = await service.getToken('p');
    await service.invalidate('p', { onlyIfToken: first.token });
    expect(store.invalidations).toEqual([['shared-key', first.token]]);
  });
});
