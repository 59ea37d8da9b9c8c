import { afterEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../core/clock.js';
import { TokenInfo } from '../core/token-info.js';
import type { TokenStore } from '../core/token-store.interface.js';
import type { TokenStrategy, TokenGenerateContext } from '../core/token-strategy.interface.js';
import { TokenService } from '../module/token.service.js';
import { LogCapture } from '../testing-support/log-capture.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
// With a 5-minute margin and no jitter: refresh from +50 min, must refresh after +55 min,
// handed out until 250 ms (the hand-out guard) before expiry.
const REFRESH_AT = T0 + HOUR - 600_000;
const MUST_REFRESH_AT = T0 + HOUR - 300_000;
const USABLE_UNTIL = T0 + HOUR - 250;

/** A store shared with other replicas, as the refresher sees it: what it was asked, what it holds. */
class SharedStore implements TokenStore {
  readonly shared = new Map<string, TokenInfo>();
  /** The token `obtain` was given as the one this replica holds, per call. */
  readonly held: Array<TokenInfo | undefined> = [];
  /** Another replica holds the lease: the held token comes back, when there is one. */
  leaseElsewhere = false;
  /** What `generate` is handed as the shared entry being replaced. */
  previous: TokenInfo | undefined;
  readonly invalidated: Array<[string, string | undefined]> = [];
  invalidateFails: Error | undefined;
  private readonly listeners: Array<(key: string) => void> = [];

  async obtain(
    key: string,
    generate: (previous?: TokenInfo) => Promise<TokenInfo>,
    isUsable: (info: TokenInfo) => boolean,
    current?: TokenInfo,
  ): Promise<TokenInfo> {
    this.held.push(current);
    if (this.leaseElsewhere && current !== undefined) return current;
    const stored = this.shared.get(key);
    if (stored !== undefined && isUsable(stored)) return stored;
    const info = await generate(this.previous ?? stored);
    this.shared.set(key, info);
    return info;
  }
  async invalidate(key: string, onlyIfToken?: string): Promise<void> {
    this.invalidated.push([key, onlyIfToken]);
    if (this.invalidateFails) throw this.invalidateFails;
    this.shared.delete(key);
  }
  onInvalidate(listener: (key: string) => void): void {
    this.listeners.push(listener);
  }
  /** Another replica invalidated `key`. */
  announce(key: string): void {
    this.listeners.forEach((listener) => listener(key));
  }
  async close(): Promise<void> {}
}

/** Mints `<name>-1`, `<name>-2`… valid for an hour from the clock; records the context it was given. */
function minting(clock: ManualClock, name: string, cacheKey = name) {
  const contexts: Array<TokenGenerateContext | undefined> = [];
  let closed = 0;
  const strategy: TokenStrategy = {
    cacheKey,
    generate: (context?: TokenGenerateContext) => {
      contexts.push(context);
      const now = clock.now();
      return Promise.resolve(
        new TokenInfo({ token: `${name}-${contexts.length}`, issuedAt: now, expiresAt: now + HOUR }),
      );
    },
    close: () => {
      closed++;
      return Promise.resolve();
    },
  };
  return { strategy, contexts, closedCount: () => closed };
}

function setup() {
  const clock = new ManualClock(T0);
  const store = new SharedStore();
  const service = new TokenService({ clock, store, random: () => 0, safetyMarginMs: 300_000 });
  const p = minting(clock, 'p');
  service.register('p', p.strategy);
  const refreshed: unknown[] = [];
  service.events.on('refreshed', (event) => refreshed.push(event));
  return { clock, store, service, refreshed, ...p };
}

describe('the refresher and a shared store', () => {
  let logs: LogCapture | undefined;
  afterEach(() => logs?.restore());

  describe('the token this replica holds, handed to the store for callers that wait', () => {
    it('a waiting caller holding a usable token offers it; taken back, it is no new token', async () => {
      logs = new LogCapture().install();
      const { clock, store, service, refreshed } = setup();
      const first = await service.getToken('p');
      expect(store.held).toEqual([undefined]); // nothing held yet
      logs.lines.length = 0;
      refreshed.length = 0;
      store.leaseElsewhere = true;
      clock.set(MUST_REFRESH_AT + 1); // inside the margin: the caller waits
      const again = await service.getToken('p');
      expect(again).toBe(first);
      expect(store.held[1]).toBe(first);
      expect(service.getStats().tokens.p).toMatchObject({ refreshes: 1, lastRefreshAt: T0 });
      expect(refreshed).toEqual([]);
      expect(logs.lines).toEqual([]);
      // Replanned from now: half of what is left, no refresh on every call.
      expect(service.getStats().tokens.p.state).toBe('fresh');
    });

    it('a background refresh, a forced one, and one without a usable token offer none', async () => {
      const { clock, store, service } = setup();
      await service.getToken('p');
      clock.set(REFRESH_AT); // the refresh window: served, refreshed behind the caller
      await service.getToken('p');
      await service.settleRefreshes();
      await service.refreshToken('p');
      expect(store.held).toEqual([undefined, undefined, undefined]);
    });

    it('at the very instant the token stops being handed out, it is not offered', async () => {
      const { clock, store, service } = setup();
      await service.getToken('p');
      clock.set(USABLE_UNTIL);
      const second = await service.getToken('p');
      expect(store.held).toEqual([undefined, undefined]);
      clock.set(USABLE_UNTIL + HOUR - 251); // inside the second token's margin, 1 ms before its limit
      await service.getToken('p');
      expect(store.held).toHaveLength(3);
      expect(store.held[2]).toBe(second);
    });
  });

  describe('the shared entry being replaced (`previous`)', () => {
    it('is handed to the strategy when the gate admits it; never when there is none', async () => {
      const { clock, store, service, contexts } = setup();
      await service.getToken('p');
      expect(contexts).toEqual([undefined]);
      const previous = new TokenInfo({ token: 'fleet', issuedAt: T0, expiresAt: T0 + HOUR });
      store.previous = previous;
      clock.advance(1000);
      await service.refreshToken('p');
      expect(contexts[1]).toEqual({ previous });
    });

    it('one the gate refuses is logged and not handed over', async () => {
      logs = new LogCapture().install();
      const { clock, store, service, contexts } = setup();
      store.previous = new TokenInfo({ token: 'not a bearer token!', issuedAt: T0, expiresAt: T0 + HOUR });
      await service.getToken('p');
      expect(contexts).toEqual([undefined]);
      const warnings = logs.lines.filter((line) => line.startsWith('warn'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /^warn token provider "p": shared entry has a "token" with characters outside .*; ignored, asking for a new token TokenService$/,
      );
      expect(clock.now()).toBe(T0);
    });
  });

  describe('a token another replica stored', () => {
    it('is taken while fresh: stored here, counted, announced; the strategy is not called', async () => {
      const { clock, store, service, contexts, refreshed } = setup();
      const fleet = new TokenInfo({ token: 'fleet', issuedAt: T0, expiresAt: T0 + HOUR });
      store.shared.set('p', fleet);
      clock.set(REFRESH_AT - 1);
      const info = await service.getToken('p');
      expect(info.token).toBe('fleet');
      expect(contexts).toEqual([]);
      expect(service.getTokenInfo('p')?.token).toBe('fleet');
      expect(service.getStats().tokens.p).toMatchObject({ refreshes: 1, cached: true });
      expect(refreshed).toHaveLength(1);
    });

    it('from its refresh point on, this replica refreshes instead', async () => {
      const { clock, store, service, contexts } = setup();
      store.shared.set('p', new TokenInfo({ token: 'fleet', issuedAt: T0, expiresAt: T0 + HOUR }));
      clock.set(REFRESH_AT);
      const info = await service.getToken('p');
      expect(info.token).toBe('p-1');
      expect(contexts).toHaveLength(1);
    });
  });

  describe('invalidation', () => {
    it("another replica's invalidation evicts the providers of that cache key only", async () => {
      const { clock, store, service, contexts } = setup();
      const q = minting(clock, 'q');
      service.register('q', q.strategy);
      await service.getToken('p');
      await service.getToken('q');
      store.announce('p');
      expect(service.getTokenInfo('p')).toBeUndefined();
      expect(service.getTokenInfo('q')?.token).toBe('q-1');
      store.shared.clear();
      await service.getToken('p');
      await service.getToken('q');
      expect(contexts).toHaveLength(2);
      expect(q.contexts).toHaveLength(1);
    });

    it('clear() invalidates every cache key in the store', async () => {
      const { clock, store, service } = setup();
      service.register('q', minting(clock, 'q').strategy);
      await service.getToken('p');
      await service.clear();
      expect(store.invalidated).toEqual([
        ['p', undefined],
        ['q', undefined],
      ]);
    });

    it('a store that cannot invalidate is logged; the local token is dropped all the same', async () => {
      logs = new LogCapture().install();
      const { store, service } = setup();
      const info = await service.getToken('p');
      store.invalidateFails = new Error('redis down');
      await expect(service.invalidate('p', { onlyIfToken: info.token })).resolves.toBe(true);
      expect(store.invalidated).toEqual([['p', info.token]]);
      expect(service.getTokenInfo('p')).toBeUndefined();
      expect(logs.lines).toContain('warn could not invalidate the shared token: redis down TokenService');
    });
  });

  it('shutdown closes every registered strategy', async () => {
    const { clock, service, closedCount } = setup();
    const q = minting(clock, 'q');
    service.register('q', q.strategy);
    await service.onApplicationShutdown();
    expect(closedCount()).toBe(1);
    expect(q.closedCount()).toBe(1);
  });
});
