import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LogCapture } from '../testing-support/log-capture.js';
import { deferred, flushPromises, StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock, systemClock } from '../core/clock.js';
import { TokenRefreshScheduler } from './token-refresh.scheduler.js';
import { TokenAcquisitionError, TokenEndpointRetryLaterError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenService } from './token.service.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/** The refresh engine through the service's public API: state machine, schedule, queue, shutdown. */
describe('TokenService refresh engine', () => {
  let logs: LogCapture | undefined;
  afterEach(() => logs?.restore());

  function manual(settings: ConstructorParameters<typeof TokenService>[0] = {}) {
    const clock = new ManualClock(T0);
    const service = new TokenService({ clock, random: () => 0, ...settings });
    return { clock, service };
  }

  it('keeps at most one refresh running and one queued, whatever is evicted meanwhile', async () => {
    const { service } = manual();
    const gates: Array<() => void> = [];
    let minted = 0;
    service.register('p', {
      cacheKey: 'p',
      generate: () =>
        new Promise<TokenInfo>((resolve) =>
          gates.push(() => resolve(new TokenInfo({ token: `t${++minted}`, expiresAt: T0 + HOUR }))),
        ),
    });
    const callers: Promise<TokenInfo>[] = [service.getToken('p')];
    for (let i = 0; i < 50; i++) {
      void service.invalidate('p');
      callers.push(service.getToken('p'), service.refreshToken('p'));
    }
    await flushPromises();
    expect(gates).toHaveLength(1); // the queued one waits for the running one
    gates[0]();
    await flushPromises();
    expect(gates).toHaveLength(2);
    gates[1]();
    const tokens = (await Promise.all(callers)).map((info) => info.token);
    expect(tokens[0]).toBe('t1');
    expect(new Set(tokens.slice(1))).toEqual(new Set(['t2']));
    expect(service.getTokenInfo('p')?.token).toBe('t2');
    expect(service.getStats().tokens.p.refreshes).toBe(1);
  });

  it('the timeout of a queued refresh starts when it starts, not while it waits', async () => {
    // Timers under test control: real ones made this flaky on a loaded machine.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const { service } = manual({ refreshTimeoutMs: 60 });
      const first = deferred<TokenInfo>();
      const second = deferred<TokenInfo>();
      let calls = 0;
      service.register('p', {
        cacheKey: 'p',
        generate: () => (++calls === 1 ? first.promise : second.promise),
      });
      const running = service.getToken('p');
      await flushPromises();
      void service.invalidate('p');
      const queued = service.getToken('p');
      // The running refresh takes 50 ms of its 60; the queued one then takes 30 ms of its own:
      // 80 ms after it was queued, which a timeout counted from the queueing would have cut.
      await jest.advanceTimersByTimeAsync(50);
      first.resolve(new TokenInfo({ token: 'first', expiresAt: T0 + HOUR }));
      await expect(running).resolves.toMatchObject({ token: 'first' });
      await flushPromises();
      expect(calls).toBe(2);
      await jest.advanceTimersByTimeAsync(30);
      second.resolve(new TokenInfo({ token: 'second', expiresAt: T0 + HOUR }));
      await expect(queued).resolves.toMatchObject({ token: 'second' });
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports each provider state from the one state machine', async () => {
    const { clock, service } = manual({ safetyMarginMs: 300_000 });
    const strategy = new StubStrategy(clock, HOUR, 'p');
    service.register('p', strategy);
    service.register('never', new StubStrategy(clock, HOUR, 'never'));
    const state = (name: string) => service.getStats().tokens[name].state;
    expect(state('never')).toBe('must-refresh');
    await service.getToken('p');
    expect(state('p')).toBe('fresh');
    clock.set(T0 + 3_000_000);
    expect(state('p')).toBe('should-refresh');
    strategy.fail = new Error('down');
    await service.getToken('p');
    await flushPromises();
    clock.set(T0 + 3_300_001);
    expect(state('p')).toBe('cooling-down');
    expect(service.getStats().tokens.p).toMatchObject({ isNearExpiry: true, degraded: true });
  });

  it('the sweep refreshes only due entries and retries a failing one once its backoff has passed', async () => {
    const { clock, service } = manual();
    const due = new StubStrategy(clock, 10 * 60_000, 'due');
    const later = new StubStrategy(clock, HOUR, 'later');
    service.register('due', due);
    service.register('later', later);
    service.register('never', new StubStrategy(clock, HOUR, 'never'));
    await service.getTokens(['due', 'later']);
    clock.advance(5 * 60_000); // half of the 10-minute token's life: its refresh point
    await Promise.allSettled(service.refreshDue(0));
    expect([due.calls, later.calls]).toEqual([2, 1]);
    clock.advance(5 * 60_000);
    due.fail = new Error('down');
    await Promise.allSettled(service.refreshDue(0));
    expect(due.calls).toBe(3);
    await Promise.allSettled(service.refreshDue(0)); // backoff: 500 ms with random 0
    expect(due.calls).toBe(3);
    clock.advance(500);
    due.fail = undefined;
    await Promise.allSettled(service.refreshDue(0));
    expect(due.calls).toBe(4);
    expect(service.getStats().tokens.due).toMatchObject({ consecutiveFailures: 0, state: 'fresh' });
    expect(service.getStats().tokens.never.cached).toBe(false);
  });

  it('forgets evicted and unregistered providers in the schedule', async () => {
    const { clock, service } = manual();
    const a = new StubStrategy(clock, HOUR, 'a');
    const b = new StubStrategy(clock, HOUR, 'b');
    service.register('a', a);
    service.register('b', b);
    await service.getTokens(['a', 'b']);
    await service.invalidate('a');
    service.unregister('b');
    clock.advance(HOUR - 1);
    expect(service.refreshDue(0)).toHaveLength(0);
    expect([a.calls, b.calls]).toEqual([1, 1]);
  });

  it('honours Retry-After from the error a strategy throws, capped at the longest backoff', async () => {
    const { clock, service } = manual();
    const retries: number[] = [];
    service.events.on('refresh-failed', ({ retryInMs }) => retries.push(retryInMs));
    const busy = (retryAfterMs: number) =>
      new TokenEndpointRetryLaterError(503, 'temporarily_unavailable', undefined, undefined, retryAfterMs);
    let answer: unknown = busy(7_000);
    service.register('p', { cacheKey: 'p', generate: () => Promise.reject(answer) });
    await expect(service.getToken('p')).rejects.toBeInstanceOf(TokenAcquisitionError);
    clock.advance(6_999);
    await expect(service.getToken('p')).rejects.toBeInstanceOf(TokenAcquisitionError); // cooling down
    clock.advance(1);
    answer = busy(10 * HOUR);
    await expect(service.getToken('p')).rejects.toBeInstanceOf(TokenAcquisitionError);
    expect(retries).toEqual([7_000, 60_000]);
  });

  it('a backoff never outlasts the valid token: the first caller after expiry gets an attempt, not a fast failure', async () => {
    const { clock, service } = manual({ safetyMarginMs: 1_000, random: () => 1 });
    let down = false;
    let minted = 0;
    service.register('p', {
      cacheKey: 'p',
      generate: () =>
        down
          ? Promise.reject(new Error('endpoint down'))
          : Promise.resolve(new TokenInfo({ token: `t${++minted}`, expiresAt: clock.now() + 4_000 })),
    });
    await service.getToken('p');
    down = true;
    // Failures while the token is still valid: the second backoff (2 s) would end after its expiry.
    for (const at of [2_600, 1_000, 200]) {
      clock.advance(at);
      await expect(service.getToken('p')).resolves.toMatchObject({ token: 't1' });
      await flushPromises();
    }
    expect(service.getStats().tokens.p.consecutiveFailures).toBe(2);
    clock.advance(200); // the token has just expired, and the endpoint is back
    down = false;
    await expect(service.getToken('p')).resolves.toMatchObject({ token: 't2' });
  });

  it('a bad per-call value is a rejection naming the provider and the field, never a synchronous throw', async () => {
    const { clock, service } = manual();
    const strategy = Object.assign(new StubStrategy(clock, HOUR, 'p'), {
      withParameters: () => new StubStrategy(clock, HOUR, 'v'),
    });
    service.register('p', strategy);
    let pending: Promise<TokenInfo> | undefined;
    expect(() => (pending = service.getToken('p', { tenant: '..' }))).not.toThrow();
    await expect(pending).rejects.toMatchObject({ provider: 'p', field: 'tenant' });
    await expect(pending).rejects.toThrow('token provider "p": per-call "tenant"');
  });

  it('a 401 for a token already replaced renews nothing and returns the current one', async () => {
    const { clock, service } = manual();
    const strategy = new StubStrategy(clock, HOUR, 'p');
    service.register('p', strategy);
    const first = await service.getToken('p');
    const second = await service.refreshToken('p');
    await expect(service.renewAfterUnauthorized('p', first.token)).resolves.toBe(second);
    expect(strategy.calls).toBe(2);
    expect(service.getStats().tokens.p.unauthorizedRetries).toBe(1);
  });

  it('shutdown abandons a hanging refresh after shutdownTimeoutMs, shared by the scheduler, and says so once', async () => {
    logs = new LogCapture().install();
    const { clock, service } = manual({ shutdownTimeoutMs: 30, refreshTimeoutMs: HOUR });
    let calls = 0;
    service.register('p', {
      cacheKey: 'p',
      generate: () =>
        calls++ === 0
          ? Promise.resolve(
              new TokenInfo({ token: 'ok', issuedAt: clock.now(), expiresAt: clock.now() + 60_000 }),
            )
          : new Promise<TokenInfo>(() => {}),
    });
    await service.getToken('p');
    const scheduler = new TokenRefreshScheduler(service, new SchedulerRegistry(), { enabled: false });
    clock.advance(50_000);
    void scheduler.sweep(0);
    await flushPromises();
    expect(calls).toBe(2);
    await scheduler.beforeApplicationShutdown();
    await service.onApplicationShutdown();
    expect(logs.lines.filter((line) => line.includes('abandoned'))).toHaveLength(1);
  });

  it('shutdown with nothing running returns at once and logs nothing', async () => {
    logs = new LogCapture().install();
    const service = new TokenService({ shutdownTimeoutMs: 60_000 });
    service.register('p', new StubStrategy(systemClock, HOUR, 'p'));
    await service.getToken('p');
    await service.onApplicationShutdown();
    expect(logs.lines.filter((line) => line.includes('abandoned'))).toHaveLength(0);
  });

  it('on the system clock, reads the clock once per turn of the event loop', async () => {
    const service = new TokenService();
    service.register('p', new StubStrategy(systemClock, HOUR, 'p'));
    await service.getToken('p');
    await flushPromises(1);
    const now = jest.spyOn(Date, 'now');
    try {
      for (let i = 0; i < 100; i++) await service.getToken('p');
      expect(now).toHaveBeenCalledTimes(1);
      await flushPromises(1); // a new turn: the clock is read again
      await service.getToken('p');
      await service.getToken('p');
      expect(now).toHaveBeenCalledTimes(2);
    } finally {
      now.mockRestore();
    }
    expect(service.getStats().tokens.p.hits).toBe(102);
  });

  it('with another clock, every call reads it: a ManualClock move is seen by the very next call', async () => {
    const { clock, service } = manual();
    service.register('p', new StubStrategy(clock, HOUR, 'p'));
    await service.getToken('p');
    clock.advance(HOUR);
    const misses = service.getStats().misses;
    await service.getToken('p');
    expect(service.getStats().misses).toBe(misses + 1);
  });

  it('logs and announces each step of a failure episode once, without any token value', async () => {
    logs = new LogCapture().install();
    const { clock, service } = manual();
    const strategy = new StubStrategy(clock, HOUR, 'p');
    service.register('p', strategy);
    const events: string[] = [];
    service.events.on('refreshed', (e) =>
      events.push(`refreshed ${e.provider} ${e.background} ${e.durationMs}`),
    );
    service.events.on('refresh-failed', (e) =>
      events.push(`failed ${e.provider} ${e.consecutiveFailures} ${e.retryInMs}`),
    );
    service.events.on('fallback-served', (e) => events.push(`fallback ${e.provider} ${e.expiresAt - T0}`));
    service.events.on('expired', (e) => events.push(`expired ${e.provider}`));

    await service.getToken('p');
    clock.set(T0 + 3_000_000); // should refresh: in the background
    await service.getToken('p');
    await flushPromises();
    strategy.fail = new Error('endpoint down');
    clock.set(T0 + 6_400_000); // the second token is inside its margin: the caller waits, and gets it back
    await service.getToken('p');
    await flushPromises();
    await service.getToken('p'); // cooling down: the cached token again, as a fallback
    clock.set(T0 + 6_600_000); // the second token has expired
    await expect(service.getToken('p')).rejects.toThrow('endpoint down');
    await expect(service.getToken('p')).rejects.toThrow('endpoint down'); // cooling down: at once
    strategy.fail = undefined;
    clock.advance(1_000);
    await service.getToken('p');

    expect(events).toEqual([
      'refreshed p false 0',
      'refreshed p true 0',
      'failed p 1 500',
      'fallback p 6600000',
      'fallback p 6600000',
      'failed p 2 1000',
      'expired p',
      'expired p',
      'refreshed p false 0',
    ]);
    const lines = logs.lines
      .filter((line) => line.includes('"p"'))
      .map((line) => line.replace(/\s+TokenService$/, '')); // the logger's context
    expect(lines).toEqual([
      'log token provider "p": new token, expires in 3600 s',
      'log token provider "p": new token, expires in 3600 s (background refresh)',
      'warn token provider "p": could not get a token: endpoint down (failure 1); retry in 500 ms; serving the cached token meanwhile',
      // One line per failure: no token left to serve, so an ERROR, and no second line for the same event.
      'error token provider "p": could not get a token: endpoint down (failure 2); retry in 1000 ms; no valid token cached, callers fail until a refresh succeeds',
      'log token provider "p": new token, expires in 3600 s; recovered after 2 failed attempts',
    ]);
    expect(service.getStats().tokens.p).toMatchObject({
      refreshes: 3,
      failures: 2,
      fallbacks: 2,
      consecutiveFailures: 0,
      lastRefreshAt: T0 + 6_601_000,
      lastRefreshDurationMs: 0,
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['no token', { expiresAt: T0 + HOUR }, /strategy returned no token/],
    ['an empty token', { token: '', expiresAt: T0 + HOUR }, /strategy returned no token/],
    ['no expiry', { token: 'x' }, /without a valid "expiresAt"/],
    ['an expiry that is not a number', { token: 'x', expiresAt: Number.NaN }, /without a valid "expiresAt"/],
    ['an expired token', { token: 'x', expiresAt: T0 }, /strategy returned an expired token/],
    ['nothing', undefined, /strategy returned no token/],
  ])('rejects what a strategy returns when it is %s', async (_name, returned, message) => {
    const { service } = manual();
    service.register('p', { cacheKey: 'p', generate: async () => returned as TokenInfo });
    await expect(service.getToken('p')).rejects.toThrow(message);
  });

  it('takes a plain object from a custom strategy, stamping provider and a sane issuedAt', async () => {
    const { service } = manual();
    let issuedAt: unknown = T0 + 999_999; // in the future: clamped to now
    service.register('p', {
      cacheKey: 'p',
      generate: async () => ({ token: 'x', expiresAt: T0 + HOUR, issuedAt }) as TokenInfo,
    });
    await expect(service.getToken('p')).resolves.toMatchObject({ provider: 'p', issuedAt: T0, token: 'x' });
    issuedAt = 'yesterday';
    await expect(service.refreshToken('p')).resolves.toMatchObject({ issuedAt: T0 });
    issuedAt = T0 - 5;
    await expect(service.refreshToken('p')).resolves.toMatchObject({ issuedAt: T0 - 5 });
    const foreign = new TokenInfo({ token: 'y', expiresAt: T0 + HOUR, provider: 'other' });
    service.register('q', { cacheKey: 'q', generate: async () => foreign });
    const relabelled = await service.getToken('q');
    expect(relabelled).toBeInstanceOf(TokenInfo);
    expect(relabelled).toMatchObject({ provider: 'q', token: 'y' });
  });

  it('fails a strategy that does not answer within refreshTimeoutMs, naming the limit', async () => {
    const { service } = manual({ refreshTimeoutMs: 15 });
    service.register('p', { cacheKey: 'p', generate: () => new Promise<TokenInfo>(() => {}) });
    await expect(service.getToken('p')).rejects.toThrow(/did not answer within 15 ms/);
  });

  it('warns once when a per-call variant holding a valid token has to be dropped', async () => {
    logs = new LogCapture().install();
    const { clock, service } = manual({ maxVariantsPerProvider: 1 });
    const strategyFor = (tenant: string) => new StubStrategy(clock, HOUR, `t:${tenant}`);
    service.register(
      'multi',
      Object.assign(strategyFor('home'), {
        withParameters: ({ tenant }: { tenant?: string }) => strategyFor(tenant!),
      }),
    );
    for (const tenant of ['a', 'b', 'c']) await service.getToken('multi', { tenant });
    expect(logs.lines.filter((line) => line.includes('per-call variants in use'))).toHaveLength(1);
    expect(Object.keys(service.getStats().tokens)).toEqual(['multi', 'multi (tenant=c)']);
  });

  it('the schedule timer sleeps at most 60 s at a time, so it looks at the wall clock again', async () => {
    const armed = jest.spyOn(globalThis, 'setTimeout');
    const service = new TokenService();
    try {
      service.register('p', new StubStrategy(systemClock, 10 * HOUR, 'p'));
      await service.getToken('p');
      const delays = armed.mock.calls.map(([, delay]) => delay).filter((delay) => (delay ?? 0) >= 1_000);
      expect(Math.max(...delays.map(Number))).toBe(60_000); // due in about 7 h; armed for 60 s
    } finally {
      armed.mockRestore();
      await service.onApplicationShutdown();
    }
  });

  it('drops the least recently used per-call variant, and refuses parameters a strategy cannot take', async () => {
    const { clock, service } = manual({ maxVariantsPerProvider: 2 });
    const strategyFor = (tenant: string) => new StubStrategy(clock, HOUR, `t:${tenant}`);
    service.register(
      'multi',
      Object.assign(strategyFor('home'), {
        withParameters: ({ tenant }: { tenant?: string }) => strategyFor(tenant!),
      }),
    );
    for (const tenant of ['a', 'b', 'a', 'c']) await service.getToken('multi', { tenant });
    expect(Object.keys(service.getStats().tokens)).toEqual(['multi', 'multi (tenant=a)', 'multi (tenant=c)']);
    await expect(service.getToken('multi', {})).resolves.toMatchObject({ provider: 'multi' });
    service.register('plain', strategyFor('plain'));
    await expect(service.getToken('plain', { tenant: 'x' })).rejects.toThrow(/takes no per-call scope/);
  });

  it('sums the counters of every provider and variant in getStats(), and describes each at its boundaries', async () => {
    const { clock, service } = manual();
    const a = new StubStrategy(clock, HOUR, 'a');
    const b = new StubStrategy(clock, HOUR, 'b');
    service.register('a', a);
    service.register('b', b);
    service.register('idle', new StubStrategy(clock, HOUR, 'idle'));
    await service.getTokens(['a', 'b']);
    await service.getToken('a');
    b.fail = new Error('down');
    clock.set(T0 + 3_300_000); // b at its must-refresh point: still should-refresh
    await service.refreshToken('b').catch(() => undefined);
    await service.getToken('b'); // at the must-refresh point: still served as a hit
    await service.renewAfterUnauthorized('a', 'not-the-token');
    const stats = service.getStats();
    expect(stats).toMatchObject({
      totalCached: 2,
      refreshes: 2,
      failures: 1,
      fallbacks: 0,
      unauthorizedRetries: 1,
    });
    expect(stats.hits).toBe(stats.tokens.a.hits + stats.tokens.b.hits);
    expect(stats.misses).toBe(3); // two cold fetches, one forced refresh
    expect(stats.tokens.b).toMatchObject({ expiresIn: 300_000, isNearExpiry: false, isExpired: false });
    expect(stats.tokens.idle).toMatchObject({ cached: false, expiresIn: null, lastRefreshDurationMs: null });
    clock.advance(1);
    expect(service.getStats().tokens.b).toMatchObject({ expiresIn: 299_999, isNearExpiry: true });
  });

  it('finds Retry-After on the cause of what a strategy throws, ignoring values that are not delays', async () => {
    const { service } = manual();
    const retries: number[] = [];
    service.events.on('refresh-failed', ({ retryInMs }) => retries.push(retryInMs));
    const wrapped = (retryAfterMs: number) =>
      new Error('wrapped', {
        cause: new TokenEndpointRetryLaterError(429, undefined, undefined, undefined, retryAfterMs),
      });
    const answers = [wrapped(9_000), wrapped(-5), wrapped(Number.NaN)];
    service.register('p', { cacheKey: 'p', generate: () => Promise.reject(answers.shift()) });
    for (let i = 0; i < 3; i++) {
      await service.refreshToken('p').catch(() => undefined);
    }
    expect(retries).toEqual([9_000, 1_000, 2_000]);
  });
});
