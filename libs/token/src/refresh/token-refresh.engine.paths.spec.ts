import { afterEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../core/clock.js';
import { InvalidTokenOptionsError, TokenAcquisitionError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';
import { TokenService } from '../module/token.service.js';
import { LogCapture } from '../testing-support/log-capture.js';
import { deferred, flushPromises } from '../testing-support/stub-strategy.js';
import { TokenCacheEntry } from './token-cache-entry.js';
import { planRefreshWindows } from './token-refresh.policy.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
// A one-hour token got at T0, 5-minute margin, no jitter: refresh from +50 min, must refresh after
// +55 min, handed out until 250 ms before expiry; a first failure backs off 500 ms.
const REFRESH_AT = T0 + HOUR - 600_000;
const USABLE_UNTIL = T0 + HOUR - 250;

/**
 * Mints `t1`, `t2`… valid for an hour from when they are made. `durationMs`: how long a call takes
 * on the manual clock; `fail`: the next calls throw it; `gate()`: the next call waits until `open()`.
 */
function endpoint(clock: ManualClock) {
  const state = {
    calls: 0,
    durationMs: 0,
    fail: undefined as Error | undefined,
    raw: undefined as ((now: number) => TokenInfo) | undefined,
    gates: [] as Array<ReturnType<typeof deferred<void>>>,
  };
  const strategy: TokenStrategy = {
    cacheKey: 'p',
    generate: async () => {
      const n = ++state.calls;
      const gate = state.gates.shift();
      if (gate !== undefined) await gate.promise;
      clock.advance(state.durationMs);
      if (state.fail !== undefined) throw state.fail;
      const now = clock.now();
      return state.raw?.(now) ?? new TokenInfo({ token: `t${n}`, issuedAt: now, expiresAt: now + HOUR });
    },
  };
  const gate = () => {
    const next = deferred<void>();
    state.gates.push(next);
    return next;
  };
  return { strategy, state, gate };
}

function setup(settings: ConstructorParameters<typeof TokenService>[0] = {}) {
  const clock = new ManualClock(T0);
  const service = new TokenService({ clock, random: () => 0, safetyMarginMs: 300_000, ...settings });
  const p = endpoint(clock);
  service.register('p', p.strategy);
  const events: Array<[string, Record<string, unknown>]> = [];
  for (const name of ['refreshed', 'refresh-failed', 'fallback-served', 'expired'] as const) {
    service.events.on(name, (event: object) => events.push([name, event as Record<string, unknown>]));
  }
  const retryInMs = () =>
    events.filter(([name]) => name === 'refresh-failed').map(([, event]) => event.retryInMs);
  return { clock, service, events, retryInMs, ...p };
}

describe('TokenRefreshEngine paths through TokenService', () => {
  let logs: LogCapture | undefined;
  afterEach(() => logs?.restore());

  describe('registration', () => {
    it('refuses an empty name, a taken one and a non-strategy, naming the field', () => {
      const { service, strategy } = setup();
      const errorOf = (register: () => void) => {
        try {
          register();
        } catch (error) {
          return error;
        }
        return undefined;
      };
      expect(errorOf(() => service.register('', strategy))).toMatchObject({
        message: 'token provider name must be a non-empty string',
        provider: undefined,
        field: 'name',
      });
      expect(errorOf(() => service.register('p', strategy))).toMatchObject({
        message: 'token provider "p" is already registered',
        provider: 'p',
        field: 'name',
      });
      const error = errorOf(() => service.register('q', {} as TokenStrategy));
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({
        message: 'token provider "q": strategy must have a string "cacheKey" and a "generate()" method',
        provider: 'q',
        field: 'strategy',
      });
      expect(service.providerNames()).toEqual(['p']);
    });

    it('providers registered without options share one frozen options object', () => {
      const { service, strategy } = setup();
      service.register('q', { ...strategy, cacheKey: 'q' }, { safetyMarginMs: undefined });
      service.register('r', { ...strategy, cacheKey: 'r' }, { safetyMarginMs: 1000 });
      expect(service.getProviderOptions('q')).toBe(service.getProviderOptions('p'));
      expect(Object.isFrozen(service.getProviderOptions('p'))).toBe(true);
      expect(service.getProviderOptions('r')).toMatchObject({ safetyMarginMs: 1000 });
    });
  });

  describe('background or not', () => {
    it('a forced refresh is announced and logged as a foreground one; a sweep refresh as background', async () => {
      logs = new LogCapture().install();
      const { clock, service, events } = setup();
      await service.getToken('p');
      await service.refreshToken('p');
      expect(events.at(-1)).toEqual(['refreshed', expect.objectContaining({ background: false })]);
      expect(logs.lines.at(-1)).toBe('log token provider "p": new token, expires in 3600 s TokenService');
      clock.set(REFRESH_AT);
      await Promise.all(service.refreshDue(0));
      expect(events.at(-1)).toEqual(['refreshed', expect.objectContaining({ background: true })]);
      expect(logs.lines.at(-1)).toBe(
        'log token provider "p": new token, expires in 3600 s (background refresh) TokenService',
      );
    });
  });

  describe('the sweep', () => {
    it('takes an entry that enters its margin within the horizon', async () => {
      const { clock, service, state } = setup();
      await service.getToken('p');
      clock.set(REFRESH_AT - 240_000); // +46 min: the margin begins 9 min from now
      const started = service.refreshDue(600_000);
      expect(started).toHaveLength(1);
      await Promise.all(started);
      expect(state.calls).toBe(2);
    });

    it('hands back a refresh a caller started, and waits for it', async () => {
      const { clock, service, gate } = setup();
      await service.getToken('p');
      clock.set(REFRESH_AT);
      const held = gate();
      await service.getToken('p'); // served; a background refresh starts and waits at the gate
      const started = service.refreshDue(0);
      expect(started).toHaveLength(1);
      held.resolve();
      await expect(started[0]).resolves.toMatchObject({ token: 't2' });
    });

    it('leaves a failing provider alone until its backoff is over', async () => {
      const { clock, service, state, retryInMs } = setup();
      await service.getToken('p');
      clock.set(REFRESH_AT);
      state.fail = new Error('down');
      await Promise.all(service.refreshDue(0)).catch(() => undefined);
      expect(retryInMs()).toEqual([500]);
      expect(service.refreshDue(10_000)).toEqual([]);
      expect(state.calls).toBe(2);
      clock.advance(500);
      await Promise.allSettled(service.refreshDue(10_000));
      expect(state.calls).toBe(3);
    });

    it('settleRefreshes waits for the refresh under way', async () => {
      const { service, gate } = setup();
      const held = gate();
      const caller = service.getToken('p');
      await flushPromises();
      let settled = false;
      const settling = service.settleRefreshes().then(() => (settled = true));
      await flushPromises();
      expect(settled).toBe(false);
      held.resolve();
      await settling;
      expect(settled).toBe(true);
      await expect(caller).resolves.toMatchObject({ token: 't1' });
    });
  });

  describe('failures and the backoff', () => {
    it('a caller in the refresh window starts a background retry only once the backoff is over', async () => {
      const { clock, service, state } = setup();
      await service.getToken('p');
      clock.set(REFRESH_AT);
      state.fail = new Error('down');
      await service.getToken('p'); // served; the background refresh fails: next attempt in 500 ms
      await flushPromises();
      expect(state.calls).toBe(2);
      clock.advance(499);
      await expect(service.getToken('p')).resolves.toMatchObject({ token: 't1' });
      await flushPromises();
      expect(state.calls).toBe(2);
      clock.advance(1);
      await expect(service.getToken('p')).resolves.toMatchObject({ token: 't1' });
      await flushPromises();
      expect(state.calls).toBe(3);
    });

    it('1 ms before the token stops being handed out a failed refresh falls back to it', async () => {
      logs = new LogCapture().install();
      const { clock, service, state, events } = setup();
      await service.getToken('p');
      clock.set(USABLE_UNTIL - 1);
      state.fail = new Error('down');
      await expect(service.getToken('p')).resolves.toMatchObject({ token: 't1' });
      expect(logs.lines.at(-1)).toMatch(
        /^warn .*down \(failure 1\); retry in \d+ ms; serving the cached token meanwhile/,
      );
      expect(events.map(([name]) => name)).toEqual(['refreshed', 'refresh-failed', 'fallback-served']);
      expect(service.getStats()).toMatchObject({ fallbacks: 1, failures: 1 });
    });

    it('from the instant the token stops being handed out, callers fail instead', async () => {
      logs = new LogCapture().install();
      const { clock, service, state, events } = setup();
      await service.getToken('p');
      clock.set(USABLE_UNTIL);
      state.fail = new Error('down');
      await expect(service.getToken('p')).rejects.toBeInstanceOf(TokenAcquisitionError);
      expect(logs.lines.at(-1)).toMatch(
        /^error .*down \(failure 1\); retry in \d+ ms; no valid token cached, callers fail until a refresh succeeds/,
      );
      expect(events.map(([name]) => name)).toEqual(['refreshed', 'refresh-failed', 'expired']);
      expect(service.getStats()).toMatchObject({ fallbacks: 0, failures: 1 });
    });

    it('a token outliving its backoff: callers fail fast once it is no longer handed out, logged once', async () => {
      logs = new LogCapture().install();
      const { clock, service, state, events } = setup();
      await service.getToken('p');
      clock.set(USABLE_UNTIL - 10_000);
      // The server asks to wait 30 s: longer than the token is handed out.
      state.fail = Object.assign(new Error('busy'), { retryAfterMs: 30_000 });
      await expect(service.refreshToken('p')).rejects.toThrow('busy');
      expect(logs.lines.filter((line) => line.startsWith('error'))).toEqual([]);
      clock.set(USABLE_UNTIL); // cooling down, no token left to hand out
      await expect(service.getToken('p')).rejects.toThrow('busy');
      await expect(service.getToken('p')).rejects.toThrow('busy');
      const errors = logs.lines.filter((line) => line.startsWith('error'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        /^error token provider "p": could not get a token: .*busy.*; no valid token left, callers fail until a refresh succeeds {2}TokenService$/,
      );
      expect(events.filter(([name]) => name === 'expired')).toHaveLength(2);
      expect(state.calls).toBe(2);
    });

    it.each<[string, () => Error, number]>([
      ['a Retry-After on the error', () => Object.assign(new Error('x'), { retryAfterMs: 30_000 }), 30_000],
      ['one 4 causes down', () => chain(Object.assign(new Error('x'), { retryAfterMs: 30_000 }), 4), 30_000],
      [
        'one 5 causes down (too deep)',
        () => chain(Object.assign(new Error('x'), { retryAfterMs: 30_000 }), 5),
        500,
      ],
      ['a zero Retry-After (the cause asks for more)', () => withCause(0, 30_000), 500],
      ['a negative one (the cause asks for 30 s)', () => withCause(-5, 30_000), 30_000],
      ['an infinite one', () => Object.assign(new Error('x'), { retryAfterMs: Infinity }), 500],
      ['one that is no number', () => Object.assign(new Error('x'), { retryAfterMs: '30000' }), 500],
    ])('%s: next attempt as the server asks', async (_label, failure, expected) => {
      const { service, state, retryInMs } = setup();
      await service.getToken('p');
      state.fail = failure();
      await expect(service.refreshToken('p')).rejects.toThrow();
      expect(retryInMs()).toEqual([expected]);
    });

    it('the last attempt while a token is held is due twice the refresh duration (and 100 ms) before its end', async () => {
      const { clock, service, state, retryInMs } = setup();
      state.durationMs = 1000;
      await service.getToken('p'); // got at T0 + 1 s, in 1 s
      state.durationMs = 0;
      const usableUntil = T0 + 1000 + HOUR - 250;
      const lastDue = usableUntil - 2 * 1000 - 100;
      state.fail = new Error('down');
      clock.set(lastDue - 200);
      await expect(service.refreshToken('p')).rejects.toThrow('down');
      expect(retryInMs()).toEqual([200]);
    });

    it('from that instant on, one more attempt comes by the end of the token', async () => {
      const { clock, service, state, retryInMs } = setup();
      await service.getToken('p'); // took no time: the last attempt is due 100 ms before the end
      state.fail = new Error('down');
      clock.set(USABLE_UNTIL - 100);
      await expect(service.refreshToken('p')).rejects.toThrow('down');
      clock.set(USABLE_UNTIL - 40);
      await expect(service.refreshToken('p')).rejects.toThrow('down');
      expect(retryInMs()).toEqual([100, 40]);
    });

    it('a failure of a refresh an eviction let go is not recorded against the provider', async () => {
      const { service, state, gate, events } = setup();
      const held = gate();
      const caller = service.getToken('p');
      await flushPromises();
      await service.invalidate('p');
      state.fail = new Error('down');
      held.resolve();
      const error = await caller.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenAcquisitionError);
      expect(error).toMatchObject({ provider: 'p' });
      expect(service.getStats().tokens.p).toMatchObject({ failures: 0, consecutiveFailures: 0 });
      // Its caller is told it has no token; no failure of the provider is announced.
      expect(events.map(([name]) => name)).toEqual(['expired']);
    });
  });

  describe('refreshes and evictions', () => {
    it('a caller after a let-go refresh ended shares the queued one, however it ends', async () => {
      const { service, state, gate } = setup();
      const first = gate();
      const second = gate();
      const a = service.getToken('p');
      await flushPromises();
      void service.invalidate('p');
      const b = service.getToken('p'); // queued behind a
      first.resolve();
      await expect(a).resolves.toMatchObject({ token: 't1' });
      await flushPromises();
      const c = service.getToken('p'); // the queued one runs: shared
      second.resolve();
      await expect(b).resolves.toMatchObject({ token: 't2' });
      await expect(c).resolves.toMatchObject({ token: 't2' });
      expect(state.calls).toBe(2);
    });

    it('a refresh running when its provider is unregistered is not announced', async () => {
      const { service, gate, events } = setup();
      const held = gate();
      const caller = service.getToken('p');
      await flushPromises();
      expect(service.unregister('p')).toBe(true);
      held.resolve();
      await expect(caller).resolves.toMatchObject({ token: 't1' });
      expect(events).toEqual([]);
    });

    it('a throwing listener is logged; the caller gets its token', async () => {
      logs = new LogCapture().install();
      const { service } = setup();
      service.events.on('refreshed', () => {
        throw new Error('listener bug');
      });
      await expect(service.getToken('p')).resolves.toMatchObject({ token: 't1' });
      expect(logs.lines).toContain('error "refreshed" listener threw: listener bug  TokenService');
    });

    it('on the system clock, a never-fetched or evicted provider is never a cache hit', async () => {
      const service = new TokenService();
      const minted = (name: string): TokenStrategy => ({
        cacheKey: name,
        generate: () => Promise.resolve(new TokenInfo({ token: name, expiresAt: Date.now() + HOUR })),
      });
      service.register('a', minted('a'));
      service.register('b', minted('b'));
      await service.getToken('a');
      // 'a' reads the clock for the turn; 'b' comes in the same turn.
      const [a, b] = await Promise.all([service.getToken('a', {}), service.getToken('b')]);
      expect([a.token, b.token]).toEqual(['a', 'b']);
      await service.invalidate('b');
      const [, again] = await Promise.all([service.getToken('a', {}), service.getToken('b')]);
      expect(again?.token).toBe('b');
    });
  });

  describe('arrival planning', () => {
    it('a token arriving exactly due is planned from its arrival', async () => {
      const { service, state } = setup();
      // Issued 50 min ago, 10 min left: its refresh point (2 margins before expiry) is now.
      state.raw = (now) =>
        new TokenInfo({ token: 'old', issuedAt: now - 3_000_000, expiresAt: now + 600_000 });
      await service.getToken('p');
      expect(service.getStats().tokens.p.state).toBe('fresh');
      await service.getToken('p');
      expect(state.calls).toBe(1);
    });

    it('a token issued before it arrived keeps its half life from its issue', async () => {
      const { clock, service, state } = setup();
      // Issued 30 min ago, 30 min left: half its life is already behind it.
      state.raw = (now) =>
        new TokenInfo({ token: 'aged', issuedAt: now - 1_800_000, expiresAt: now + 1_800_000 });
      await service.getToken('p');
      clock.advance(600_000); // the margin begins 15 min from now
      const started = service.refreshDue(1_000_000);
      expect(started).toHaveLength(1);
      await Promise.all(started);
      expect(state.calls).toBe(2);
    });
  });

  it('a provider left without a token does not hold up the sweep of the others', async () => {
    const { clock, service, state } = setup();
    state.fail = new Error('down');
    await expect(service.getToken('p')).rejects.toThrow('down');
    const q = endpoint(clock);
    service.register('q', { ...q.strategy, cacheKey: 'q' });
    await service.getToken('q');
    clock.set(REFRESH_AT);
    await Promise.all(service.refreshDue(0));
    expect(q.state.calls).toBe(2);
  });

  describe('stats', () => {
    it('before any call: a hit rate of 0, each provider uncached, expired and near expiry', () => {
      const { service } = setup();
      expect(service.getStats()).toMatchObject({ hitRate: 0, totalCached: 0 });
      expect(service.getStats().tokens.p).toMatchObject({
        cached: false,
        isExpired: true,
        isNearExpiry: true,
        expiresIn: null,
      });
    });

    it('an evicted token is near expiry again; the rows are plain properties', async () => {
      const { service } = setup();
      await service.getToken('p');
      expect(service.getStats().tokens.p.isNearExpiry).toBe(false);
      await service.invalidate('p');
      const stats = service.getStats();
      expect(stats.tokens.p).toMatchObject({ isNearExpiry: true, isExpired: true });
      stats.tokens.p = { ...stats.tokens.p, hits: 99 };
      expect(stats.tokens.p.hits).toBe(99);
      delete (stats.tokens as Record<string, unknown>).p;
      expect(Object.keys(stats.tokens)).toEqual([]);
    });
  });

  describe('401 renewals', () => {
    it('a 401 for a token already replaced neither renews nor starts a backoff episode', async () => {
      logs = new LogCapture().install();
      const { service, state } = setup();
      await service.getToken('p');
      await expect(service.renewAfterUnauthorized('p', 'some-older-token')).resolves.toMatchObject({
        token: 't1',
      });
      expect(state.calls).toBe(1);
      expect(logs.lines.filter((line) => line.startsWith('warn'))).toEqual([]);
    });

    it('a renewed token rejected before it is accepted is counted once', () => {
      const entry = new TokenCacheEntry('p', endpoint(new ManualClock(T0)).strategy, {}, 300_000);
      const info = new TokenInfo({ token: 'renewed', issuedAt: T0, expiresAt: T0 + HOUR });
      entry.refreshed(
        info,
        planRefreshWindows(info.expiresAt, T0, 300_000, () => 0),
        T0,
        T0,
        'issued',
      );
      entry.renewedAfterRejection('renewed');
      entry.rejectedByApi('renewed', T0, () => 0);
      entry.rejectedByApi('renewed', T0, () => 0);
      expect(entry.countedRejection).toBe('renewed');
      expect(entry.rejectedRenewals).toBe(1);
    });
  });
});

/** `error` as the cause `depth` levels below a thrown wrapper (0: thrown as is). */
function chain(error: Error, depth: number): Error {
  let outer = error;
  for (let i = 0; i < depth; i++) outer = new Error(`wrapper ${i}`, { cause: outer });
  return outer;
}

function withCause(retryAfterMs: number, causeRetryAfterMs: number): Error {
  return Object.assign(
    new Error('x', { cause: Object.assign(new Error('y'), { retryAfterMs: causeRetryAfterMs }) }),
    { retryAfterMs },
  );
}
