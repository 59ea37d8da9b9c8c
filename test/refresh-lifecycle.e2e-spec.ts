import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Clock } from '../libs/token/src/core/clock.js';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import type { TokenStrategy } from '../libs/token/src/core/token-strategy.interface.js';
import { TokenModule } from '../libs/token/src/module/token.module.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import {
  TOKEN_REFRESH_JOB_NAME,
  TokenRefreshScheduler,
} from '../libs/token/src/module/token-refresh.scheduler.js';
import { LogCapture } from './support/log-capture.js';
import { StubStrategy } from './support/stub-strategy.js';

/**
 * The refresh job end to end: fake timers drive the real CronJob (and Date, which the service's clock
 * reads), so many token lifetimes pass in a few milliseconds and nothing depends on the machine's speed.
 */

const START = new Date('2026-01-01T00:00:00.000Z');
const EVERY_SECOND = '* * * * * *';

/** Reads the (fake) Date at call time; `systemClock` holds the real `Date.now`. */
const fakeDateClock: Clock = { now: () => Date.now() };

interface AppOptions {
  lifetimeMs: number;
  safetyMarginMs?: number;
  cron?: string;
  enabled?: boolean;
  /** Import `ScheduleModule.forRoot()` in the application too. */
  withScheduleModule?: boolean;
  extraProviders?: Parameters<typeof Test.createTestingModule>[0]['providers'];
  logs?: LogCapture;
  /** Instead of the StubStrategy. */
  customStrategy?: TokenStrategy;
}

/** Strategies of the running test, released in afterEach so a failed test cannot hang close(). */
const strategies: StubStrategy[] = [];

async function startApp(options: AppOptions) {
  const strategy = new StubStrategy(fakeDateClock, options.lifetimeMs);
  strategies.push(strategy);
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [
      ...(options.withScheduleModule ? [ScheduleModule.forRoot()] : []),
      TokenModule.forRoot({
        clock: fakeDateClock,
        safetyMarginMs: options.safetyMarginMs,
        refresh: { cron: options.cron ?? EVERY_SECOND, enabled: options.enabled },
        providers: { api: { type: 'custom', useFactory: () => options.customStrategy ?? strategy } },
      }),
    ],
    providers: options.extraProviders ?? [],
  })
    .setLogger(options.logs ?? new LogCapture())
    .compile();
  await moduleRef.init();
  return {
    moduleRef,
    strategy,
    tokens: moduleRef.get(TokenService),
    scheduler: moduleRef.get(TokenRefreshScheduler),
  };
}

/** True when the promise settled within a few microtasks: no I/O, no timer, so nobody waited. */
async function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 3; i++) await Promise.resolve();
  return settled;
}

/** The private timer of a CronJob (cron 4.x keeps it in `_timeout`). */
function cronTimer(job: unknown): NodeJS.Timeout {
  return (job as { _timeout: NodeJS.Timeout })._timeout;
}

describe('preemptive refresh job (fake timers drive the cron)', () => {
  let logs: LogCapture;
  let moduleRef: TestingModule | undefined;

  beforeEach(() => {
    // Before compiling: the job's first timeout is set in onApplicationBootstrap.
    jest.useFakeTimers({ now: START, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    logs = new LogCapture();
  });

  afterEach(async () => {
    strategies.splice(0).forEach((strategy) => strategy.release());
    await moduleRef?.close();
    moduleRef = undefined;
    logs.restore();
    jest.useRealTimers();
  });

  it.each([
    // [lifetime, margin, most token requests over ten lifetimes]
    [
      '20 s tokens, 250 ms margin: one request per lifetime',
      20_000,
      250,
      (lifetimes: number) => lifetimes + 1,
    ],
    // The default 300 s margin is capped at a quarter of a 4 s lifetime; refreshed from half of it.
    [
      '4 s tokens, default margin: used at least half their lifetime',
      4_000,
      undefined,
      (lifetimes: number) => 2 * lifetimes + 1,
    ],
  ])(
    '%s; after warm-up no call waits and none gets an expired token',
    async (_name, lifetimeMs, marginMs, most) => {
      const app = await startApp({ lifetimeMs, safetyMarginMs: marginMs });
      moduleRef = app.moduleRef;
      await app.tokens.getToken('api'); // warm-up: the one call that waits

      const lifetimes = 10;
      const stepMs = 100;
      let waited = 0;
      let expired = 0;
      for (let elapsed = 0; elapsed < lifetimes * lifetimeMs; elapsed += stepMs) {
        await jest.advanceTimersByTimeAsync(stepMs);
        const call = app.tokens.getToken('api');
        if (!(await settledAtOnce(call))) waited++;
        if ((await call).expiresAt <= Date.now()) expired++;
      }

      expect({ waited, expired }).toEqual({ waited: 0, expired: 0 });
      expect(app.tokens.getStats()).toMatchObject({ misses: 1, failures: 0 });
      expect(app.strategy.calls).toBeGreaterThanOrEqual(lifetimes);
      expect(app.strategy.calls).toBeLessThanOrEqual(most(lifetimes));
    },
  );

  it('keeps the token out of its margin with no calls at all: the job alone refreshes it', async () => {
    const app = await startApp({ lifetimeMs: 20_000, safetyMarginMs: 250 });
    moduleRef = app.moduleRef;
    await app.tokens.getToken('api');
    let insideMargin = 0;
    for (let elapsed = 0; elapsed < 10 * 20_000; elapsed += 100) {
      await jest.advanceTimersByTimeAsync(100);
      if (app.tokens.getStats().tokens.api.isNearExpiry) insideMargin++;
    }
    expect(insideMargin).toBe(0);
    expect(app.strategy.calls).toBeGreaterThanOrEqual(10);
    expect(app.strategy.calls).toBeLessThanOrEqual(11);
    expect(app.tokens.getStats()).toMatchObject({ hits: 0, misses: 1 });
    expect(await settledAtOnce(app.tokens.getToken('api'))).toBe(true);
  });

  it('an issuer that hands back the same token (same value, same issue and expiry time) causes no refresh loop', async () => {
    const lifetimeMs = 20_000;
    let requests = 0;
    let current = new TokenInfo({
      token: 'sticky-1',
      issuedAt: Date.now(),
      expiresAt: Date.now() + lifetimeMs,
    });
    const sticky: TokenStrategy = {
      cacheKey: 'sticky',
      generate: async () => {
        requests++;
        // Like an issuer that caches its token: the same one until it expires, then a new one.
        if (current.expiresAt <= Date.now()) {
          current = new TokenInfo({
            token: `sticky-${requests}`,
            issuedAt: Date.now(),
            expiresAt: Date.now() + lifetimeMs,
          });
        }
        return current;
      },
    };
    const app = await startApp({ lifetimeMs, customStrategy: sticky });
    moduleRef = app.moduleRef;
    await app.tokens.getToken('api');
    const lifetimes = 3;
    let failed = 0;
    let expired = 0;
    for (let elapsed = 0; elapsed < lifetimes * lifetimeMs; elapsed += 100) {
      await jest.advanceTimersByTimeAsync(100);
      await app.tokens.getToken('api').then(
        (info) => info.expiresAt <= Date.now() && expired++,
        () => failed++,
      );
    }
    expect({ failed, expired }).toEqual({ failed: 0, expired: 0 });
    // 600 calls and 60 sweeps: the same token is used for half of what is left each time, so a few
    // requests per lifetime, never one per call or per sweep.
    expect(requests).toBeLessThanOrEqual(lifetimes * 10);
  });

  it('a sweep does not overlap itself: ticks that come while it waits on a refresh are skipped', async () => {
    // 20 s tokens, 250 ms margin: the sweep at +19 s is the last before the margin, so it refreshes.
    const app = await startApp({ lifetimeMs: 20_000, safetyMarginMs: 250 });
    moduleRef = app.moduleRef;
    await app.tokens.getToken('api');
    const refreshDue = jest.spyOn(app.tokens, 'refreshDue');
    app.strategy.hold(); // the next refresh hangs until released

    await jest.advanceTimersByTimeAsync(19_000);
    expect(app.strategy.calls).toBe(2);
    expect(refreshDue).toHaveBeenCalledTimes(19);

    await jest.advanceTimersByTimeAsync(3_000); // three more ticks…
    expect(refreshDue).toHaveBeenCalledTimes(19); // …skipped, not run beside the one that waits
    expect(app.scheduler.skippedSweeps).toBe(3);
    expect(app.strategy.calls).toBe(2);
    const sweepsBefore = refreshDue.mock.calls.length;

    app.strategy.release();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(refreshDue.mock.calls.length).toBeGreaterThan(sweepsBefore); // sweeping again
    expect(app.tokens.getTokenInfo('api')?.token).toBe('token-2');
  });

  it('a throwing sweep is logged and never reaches the application; the next one runs', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const app = await startApp({ lifetimeMs: 20_000, logs });
      moduleRef = app.moduleRef;
      await app.tokens.getToken('api');
      const refreshDue = jest.spyOn(app.tokens, 'refreshDue').mockImplementation(() => {
        throw new Error('sweep exploded');
      });
      await jest.advanceTimersByTimeAsync(3_000);
      const failures = logs.lines.filter((line) =>
        line.includes('token refresh sweep failed: sweep exploded'),
      );
      expect(failures.length).toBe(refreshDue.mock.calls.length);
      expect(failures.length).toBeGreaterThanOrEqual(2);
      expect(failures.every((line) => line.startsWith('error'))).toBe(true);

      refreshDue.mockRestore();
      const sweep = jest.spyOn(app.tokens, 'refreshDue');
      await jest.advanceTimersByTimeAsync(1_000);
      expect(sweep).toHaveBeenCalled();
      await expect(app.tokens.getToken('api')).resolves.toMatchObject({ token: 'token-1' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('without ScheduleModule in the app: the job runs from a private registry', async () => {
    const app = await startApp({ lifetimeMs: 20_000 });
    moduleRef = app.moduleRef;
    expect(() => app.moduleRef.get(SchedulerRegistry, { strict: false })).toThrow();
    expect(app.scheduler.cronJob?.isActive).toBe(true);
    const refreshDue = jest.spyOn(app.tokens, 'refreshDue');
    await jest.advanceTimersByTimeAsync(3_000);
    expect(refreshDue).toHaveBeenCalledTimes(3);
  });

  it("with ScheduleModule.forRoot() in the app: the job is in the app's registry and the app's own @Cron runs once per tick", async () => {
    let appTicks = 0;
    @Injectable()
    class AppJob {
      @Cron(EVERY_SECOND, { name: 'app-job' })
      tick() {
        appTicks++;
      }
    }
    const app = await startApp({ lifetimeMs: 20_000, withScheduleModule: true, extraProviders: [AppJob] });
    moduleRef = app.moduleRef;
    const registry = app.moduleRef.get(SchedulerRegistry, { strict: false });
    expect(registry.getCronJob(TOKEN_REFRESH_JOB_NAME)).toBe(app.scheduler.cronJob);
    expect([...registry.getCronJobs().keys()].sort()).toEqual(['app-job', TOKEN_REFRESH_JOB_NAME].sort());
    const refreshDue = jest.spyOn(app.tokens, 'refreshDue');
    await jest.advanceTimersByTimeAsync(3_000);
    expect(refreshDue).toHaveBeenCalledTimes(3);
    expect(appTicks).toBe(3);

    await app.moduleRef.close();
    moduleRef = undefined;
    expect(registry.doesExist('cron', TOKEN_REFRESH_JOB_NAME)).toBe(false);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(refreshDue).toHaveBeenCalledTimes(3); // stopped
  });

  it('refresh.enabled: false registers no job', async () => {
    const app = await startApp({ lifetimeMs: 20_000, enabled: false, withScheduleModule: true });
    moduleRef = app.moduleRef;
    expect(app.scheduler.cronJob).toBeUndefined();
    expect(
      app.moduleRef.get(SchedulerRegistry, { strict: false }).doesExist('cron', TOKEN_REFRESH_JOB_NAME),
    ).toBe(false);
    const refreshDue = jest.spyOn(app.tokens, 'refreshDue');
    await jest.advanceTimersByTimeAsync(3_000);
    expect(refreshDue).not.toHaveBeenCalled();
  });

  it('a bad cron expression fails at start-up naming the field', async () => {
    await expect(startApp({ lifetimeMs: 20_000, cron: 'every minute' })).rejects.toThrow(/"refresh\.cron"/);
  });

  it('close() stops the job and waits for the refresh in flight', async () => {
    const app = await startApp({ lifetimeMs: 20_000, safetyMarginMs: 250 });
    await app.tokens.getToken('api');
    app.strategy.hold();
    await jest.advanceTimersByTimeAsync(19_000); // the sweep's refresh is now in flight
    expect(app.strategy.calls).toBe(2);

    const closing = app.moduleRef.close();
    expect(await settledAtOnce(closing)).toBe(false);
    app.strategy.release();
    await closing;
    expect(app.scheduler.cronJob).toBeUndefined();
    expect(app.tokens.getTokenInfo('api')?.token).toBe('token-2');
  });
});

describe('preemptive refresh job (real timers)', () => {
  it("the job's timer never keeps the process alive, and close() resolves", async () => {
    const strategy = new StubStrategy({ now: Date.now }, 60_000);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        TokenModule.forRoot({ providers: { api: { type: 'custom', useFactory: () => strategy } } }),
      ],
    }).compile();
    await moduleRef.init();
    const job = moduleRef.get(TokenRefreshScheduler).cronJob;
    let timerKeepsProcessAlive: boolean | undefined;
    try {
      expect(job?.isActive).toBe(true);
      timerKeepsProcessAlive = cronTimer(job).hasRef();
    } finally {
      await expect(moduleRef.close()).resolves.toBeUndefined();
    }
    expect(timerKeepsProcessAlive).toBe(false);
    expect(job?.isActive).toBe(false);
  });
});
