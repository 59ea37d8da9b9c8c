import { describe, expect, it } from '@jest/globals';
import { flushPromises, StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import {
  InvalidTokenOptionsError,
  TokenAcquisitionError,
  TokenProviderNotFoundError,
} from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenService } from './token.service.js';

const MINUTE = 60_000;

function setup(lifetimeMs = 30 * MINUTE, safetyMarginMs = 5 * MINUTE) {
  const clock = new ManualClock(1_700_000_000_000);
  // No jitter: windows land exactly at 2 × margin and 1 × margin before expiry.
  const service = new TokenService({ clock, safetyMarginMs, random: () => 0 });
  const strategy = new StubStrategy(clock, lifetimeMs);
  service.register('kling', strategy);
  return { clock, service, strategy };
}

/** True when the promise has settled after the queue drained. */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await flushPromises();
  return settled;
}

describe('TokenService', () => {
  describe('cache', () => {
    it('fetches once and then serves the same resolved promise from memory', async () => {
      const { service, strategy } = setup();
      const first = await service.getToken('kling');
      const second = service.getToken('kling');
      const third = service.getToken('kling');
      expect(second).toBe(third);
      expect(await second).toBe(first);
      expect(strategy.calls).toBe(1);
      expect(first.provider).toBe('kling');
      const stats = service.getStats();
      expect(stats).toMatchObject({ hits: 2, misses: 1, refreshes: 1, totalCached: 1 });
      expect(stats.hitRate).toBeCloseTo(2 / 3);
    });

    it('10,000 concurrent callers on a cold cache cause exactly one generate()', async () => {
      const { service, strategy } = setup();
      strategy.hold();
      const calls = Array.from({ length: 10_000 }, () => service.getToken('kling'));
      await flushPromises();
      strategy.release();
      const tokens = await Promise.all(calls);
      expect(strategy.calls).toBe(1);
      expect(new Set(tokens.map((t) => t.token))).toEqual(new Set(['token-1']));
    });

    it('a provider whose endpoint hangs does not delay another provider', async () => {
      const { clock, service, strategy } = setup();
      const other = new StubStrategy(clock, 30 * MINUTE, 'other');
      service.register('other', other);
      strategy.hold();
      const hanging = service.getToken('kling');
      await expect(service.getToken('other')).resolves.toMatchObject({ token: 'token-1', provider: 'other' });
      expect(await settles(hanging)).toBe(false);
      strategy.release();
      await expect(hanging).resolves.toMatchObject({ provider: 'kling' });
    });

    it('getTokens, getTokenString and getAuthorizationHeader', async () => {
      const { clock, service } = setup();
      service.register('github', new StubStrategy(clock, MINUTE, 'gh'));
      const tokens = await service.getTokens(['kling', 'github']);
      expect(Object.keys(tokens)).toEqual(['kling', 'github']);
      expect(await service.getTokenString('kling')).toBe('Bearer token-1');
      expect(await service.getAuthorizationHeader('github')).toEqual({ Authorization: 'Bearer token-1' });
    });

    it('forceRefresh and refreshToken fetch a new token', async () => {
      const { service, strategy } = setup();
      await service.getToken('kling');
      expect((await service.getToken('kling', { forceRefresh: true })).token).toBe('token-2');
      expect((await service.refreshToken('kling')).token).toBe('token-3');
      expect((await service.getToken('kling')).token).toBe('token-3');
      expect(strategy.calls).toBe(3);
    });

    it('invalidate drops the token; onlyIfToken evicts only the token that was rejected', async () => {
      const { service } = setup();
      const first = await service.getToken('kling');
      expect(await service.invalidate('kling')).toBe(true);
      expect(service.getTokenInfo('kling')).toBeUndefined();
      const second = await service.getToken('kling');
      expect(second.token).not.toBe(first.token);
      expect(await service.invalidate('kling', { onlyIfToken: first.token })).toBe(false);
      expect(service.getTokenInfo('kling')).toBe(second);
      expect(await service.invalidate('kling', { onlyIfToken: second.token })).toBe(true);
      expect(service.isTokenExpired('kling')).toBe(true);
    });

    it('clear drops every token', async () => {
      const { clock, service } = setup();
      service.register('other', new StubStrategy(clock, MINUTE, 'other'));
      await service.getTokens(['kling', 'other']);
      await service.clear();
      expect(service.getStats().totalCached).toBe(0);
    });

    it('a refresh that started before an eviction does not store its token after it', async () => {
      const { service, strategy } = setup();
      strategy.hold();
      const pending = service.getToken('kling');
      await flushPromises();
      await service.invalidate('kling');
      strategy.release();
      await expect(pending).resolves.toMatchObject({ token: 'token-1' });
      expect(service.getTokenInfo('kling')).toBeUndefined();
    });
  });

  describe('safety margin boundaries', () => {
    it.each([
      // [ms left before expiry, caller waits?]
      [5 * MINUTE, false], // exactly at the margin: still served
      [5 * MINUTE - 1, true], // 1 ms inside: refreshed before use
      [10 * MINUTE + 1, false], // fresh
    ])('with %i ms left, caller waits for a refresh: %s', async (leftMs, waits) => {
      const { clock, service, strategy } = setup();
      const first = await service.getToken('kling');
      clock.set(first.expiresAt - leftMs);
      strategy.hold();
      const call = service.getToken('kling');
      expect(await settles(call)).toBe(!waits);
      strategy.release();
      const token = await call;
      expect(token.token).toBe(waits ? 'token-2' : 'token-1');
    });

    it('refreshes in the background inside 2 × margin and keeps serving the current token', async () => {
      const { clock, service, strategy } = setup();
      const first = await service.getToken('kling');
      clock.set(first.expiresAt - 10 * MINUTE); // exactly 2 × margin: should refresh
      strategy.hold();
      expect(await service.getToken('kling')).toBe(first);
      expect(await service.getToken('kling')).toBe(first);
      expect(strategy.calls).toBe(2); // one background refresh, shared
      strategy.release();
      await flushPromises();
      expect((await service.getToken('kling')).token).toBe('token-2');
    });

    it('caps the margin at a quarter of the lifetime: a 60-second token is not refreshed on every call', async () => {
      const { clock, service, strategy } = setup(MINUTE, 5 * MINUTE);
      await service.getToken('kling');
      // Effective margin 15 s: background refresh from 30 s (half the lifetime), not before.
      for (let second = 1; second < 30; second++) {
        clock.advance(1000);
        await service.getToken('kling');
      }
      expect(strategy.calls).toBe(1);
      clock.advance(1000);
      await service.getToken('kling');
      expect(strategy.calls).toBe(2);
      // Over many lifetimes: about one refresh per half lifetime at most, never one per call.
      for (let second = 0; second < 600; second++) {
        clock.advance(1000);
        await service.getToken('kling');
        await flushPromises(1);
      }
      const elapsedSeconds = 30 + 600;
      expect(strategy.calls).toBeLessThanOrEqual(1 + elapsedSeconds / 30);
      expect(strategy.calls).toBeGreaterThanOrEqual(elapsedSeconds / 60);
    });

    it('an issuer that hands back an almost expired token does not cause a refresh loop', async () => {
      const clock = new ManualClock(0);
      const service = new TokenService({ clock, random: () => 0 });
      let calls = 0;
      const expiresAt = 100_000;
      service.register('sticky', {
        cacheKey: 'sticky',
        generate: async () => {
          calls++;
          return new TokenInfo({ token: 'same', issuedAt: 0, expiresAt });
        },
      });
      clock.set(0);
      await service.getToken('sticky');
      clock.set(90_000); // inside the margin of the original lifetime
      for (let i = 0; i < 100; i++) await service.getToken('sticky');
      expect(calls).toBeLessThanOrEqual(3);
    });
  });

  describe('failures', () => {
    it('without a valid token, callers get TokenAcquisitionError naming the provider and cause', async () => {
      const { service, strategy } = setup();
      strategy.fail = new Error('connect ECONNREFUSED');
      const error = await service.getToken('kling').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenAcquisitionError);
      expect(error).toMatchObject({ provider: 'kling', code: 'TOKEN_ACQUISITION_FAILED' });
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect(service.getTokenInfo('kling')).toBeUndefined();
    });

    it('cools down after a failure instead of calling a dead endpoint for every caller, then recovers', async () => {
      const { clock, service, strategy } = setup();
      strategy.fail = new Error('503');
      await expect(service.getToken('kling')).rejects.toBeInstanceOf(TokenAcquisitionError);
      await expect(service.getToken('kling')).rejects.toBeInstanceOf(TokenAcquisitionError);
      expect(strategy.calls).toBe(1);
      clock.advance(1_001);
      strategy.fail = undefined;
      await expect(service.getToken('kling')).resolves.toMatchObject({ token: 'token-2' });
      expect(service.getStats().tokens.kling).toMatchObject({ consecutiveFailures: 0, degraded: false });
    });

    it('keeps serving a still-valid token when refreshes fail, with backoff between attempts', async () => {
      const { clock, service, strategy } = setup();
      const first = await service.getToken('kling');
      strategy.fail = new Error('timeout');
      clock.set(first.expiresAt - 4 * MINUTE); // inside the margin
      expect(await service.getToken('kling')).toBe(first); // waited for one failed attempt, then fallback
      const attempts = strategy.calls;
      for (let i = 0; i < 100; i++) expect(await service.getToken('kling')).toBe(first);
      expect(strategy.calls).toBe(attempts); // cooling down: no new attempt
      const stats = service.getStats().tokens.kling;
      expect(stats).toMatchObject({ degraded: true, consecutiveFailures: 1 });
      expect(stats.fallbacks).toBeGreaterThan(100);
      clock.set(first.expiresAt);
      await expect(service.getToken('kling')).rejects.toBeInstanceOf(TokenAcquisitionError);
    });

    it('rejects strategies that return no token, an expired token or a bad expiry', async () => {
      const clock = new ManualClock(1_000_000);
      const service = new TokenService({ clock });
      const bad = [
        { token: '', expiresAt: 2_000_000 },
        { token: 'x', expiresAt: Number.NaN },
        { token: 'x', expiresAt: 1_000_000 },
        undefined,
      ];
      for (const [index, value] of bad.entries()) {
        service.register(`bad${index}`, { cacheKey: `bad${index}`, generate: async () => value as never });
        await expect(service.getToken(`bad${index}`)).rejects.toBeInstanceOf(TokenAcquisitionError);
      }
    });

    it('accepts plain objects from custom strategies', async () => {
      const clock = new ManualClock(1_000_000);
      const service = new TokenService({ clock });
      service.register('plain', {
        cacheKey: 'plain',
        generate: async () => ({ token: 't', expiresAt: 5_000_000 }) as never,
      });
      const info = await service.getToken('plain');
      expect(info).toBeInstanceOf(TokenInfo);
      expect(info).toMatchObject({ token: 't', tokenType: 'Bearer', provider: 'plain', issuedAt: 1_000_000 });
    });
  });

  describe('registration and lookups', () => {
    it('unknown providers give TokenProviderNotFoundError', async () => {
      const { service } = setup();
      await expect(service.getToken('nope')).rejects.toBeInstanceOf(TokenProviderNotFoundError);
      expect(() => service.getTokenInfo('nope')).toThrow(TokenProviderNotFoundError);
    });

    it('rejects bad registrations with InvalidTokenOptionsError', () => {
      const { service, strategy } = setup();
      expect(() => service.register('kling', strategy)).toThrow(/already registered/);
      expect(() => service.register('', strategy)).toThrow(InvalidTokenOptionsError);
      expect(() => service.register('x', {} as never)).toThrow(/generate/);
      expect(() => service.register('y', strategy, { safetyMarginMs: -1 })).toThrow(/"safetyMarginMs"/);
      expect(service.providerNames()).toEqual(['kling']);
    });

    it('providers registered without options share one options object; others keep their own', () => {
      const { clock, service } = setup();
      service.register('tenant-1', new StubStrategy(clock, MINUTE, 't1'));
      service.register('tenant-2', new StubStrategy(clock, MINUTE, 't2'), {});
      service.register('tenant-3', new StubStrategy(clock, MINUTE, 't3'), { safetyMarginMs: 1_000 });
      expect(service.getProviderOptions('tenant-1')).toBe(service.getProviderOptions('tenant-2'));
      expect(service.getProviderOptions('tenant-1')).toEqual({});
      expect(Object.isFrozen(service.getProviderOptions('tenant-1'))).toBe(true);
      expect(service.getProviderOptions('tenant-3')).toEqual({ safetyMarginMs: 1_000 });
    });

    it('unregister removes a run-time provider', async () => {
      const { clock, service } = setup();
      service.register('tenant-1', new StubStrategy(clock, MINUTE, 't1'));
      await service.getToken('tenant-1');
      expect(service.unregister('tenant-1')).toBe(true);
      expect(service.hasProvider('tenant-1')).toBe(false);
      expect(service.unregister('tenant-1')).toBe(false);
    });

    it('stats never hold a token value', async () => {
      const { service } = setup();
      await service.getToken('kling');
      const json = JSON.stringify(service.getStats());
      expect(json).not.toContain('token-1');
      expect(service.getStats().tokens.kling).toMatchObject({
        cached: true,
        isExpired: false,
        isNearExpiry: false,
      });
    });
  });
});
