import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { TerminusModule } from '@nestjs/terminus';
import { Test, type TestingModule } from '@nestjs/testing';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock, systemClock } from '../libs/token/src/core/clock.js';
import { TokenHealthIndicator, TokenHealthModule } from '../libs/token/src/health/index.js';
import { TokenRequestAuthorizer } from '../libs/token/src/http/token-request-authorizer.js';
import { TokenCacheEntry } from '../libs/token/src/refresh/token-cache-entry.js';
import { TokenRefreshScheduler } from '../libs/token/src/module/token-refresh.scheduler.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { TokenModule } from '../libs/token/src/module/token.module.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import { LogCapture } from './support/log-capture.js';
import { flushPromises, StubStrategy } from './support/stub-strategy.js';

/**
 * The fault-injection table of the refresh engine, one test per row: each failed on the engine
 * before it had one state machine and one schedule. Real loopback endpoints, no mocked HTTP.
 */

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1_000;
const CLIENT_SECRET = 'Fi-fault-SECRET-canary-6a2d';

type Answer = (form: URLSearchParams, res: ServerResponse) => void;

/** An OAuth2 token endpoint on 127.0.0.1 whose answer the test sets per request. */
class FaultyEndpoint {
  readonly grants: string[] = [];
  readonly refreshTokensSeen: (string | null)[] = [];
  issued = 0;
  answer: Answer = (_form, res) => this.issue(res);
  private readonly server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      this.grants.push(form.get('grant_type') ?? '');
      this.refreshTokensSeen.push(form.get('refresh_token'));
      this.answer(form, res);
    });
  });

  get tokenUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  issue(res: ServerResponse, extra: Record<string, unknown> = {}): void {
    this.issued++;
    json(res, 200, { access_token: `at-${this.issued}`, token_type: 'Bearer', expires_in: 3600, ...extra });
  }
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...headers });
  res.end(JSON.stringify(body));
}

function oauth2(endpoint: FaultyEndpoint, clock = systemClock, timeoutMs = 2_000): OAuth2Strategy {
  return new OAuth2Strategy(
    { tokenUrl: endpoint.tokenUrl, clientId: 'svc', clientSecret: CLIENT_SECRET, timeoutMs },
    clock,
  );
}

describe('refresh engine under injected faults', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function endpoint(): Promise<FaultyEndpoint> {
    const started = await new FaultyEndpoint().start();
    cleanups.push(() => started.stop());
    return started;
  }

  it('row 1: with 1,000 idle providers, the timer and the sweeps never walk the fresh entries', async () => {
    jest.useFakeTimers({ now: T0, doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    cleanups.push(() => {
      jest.useRealTimers();
    });
    const service = new TokenService();
    cleanups.push(() => service.onApplicationShutdown());
    const providers = 1_000;
    for (let i = 0; i < providers; i++) {
      // Lifetimes from 10 min to ~3 h: refresh instants spread over the whole run.
      service.register(`p${i}`, new StubStrategy(systemClock, 600_000 + i * 10_000, `p${i}`));
      await service.getToken(`p${i}`);
    }
    const looked = jest.spyOn(TokenCacheEntry.prototype, 'withVariants');
    cleanups.push(() => looked.mockRestore());
    // 20 minutes of no traffic: timers fire at refresh instants, a sweep runs every 30 s.
    for (let elapsed = 0; elapsed < 20 * 60 * SECOND; elapsed += 30 * SECOND) {
      jest.advanceTimersByTime(30 * SECOND);
      await Promise.all(service.refreshDue(30 * SECOND));
    }
    await flushPromises();
    // Before: every timer firing and every sweep walked all 1,000 entries (tens of thousands of looks).
    expect(looked.mock.calls.length).toBeLessThan(providers);
    expect(service.getStats().refreshes).toBeGreaterThan(providers); // the due ones were refreshed
  });

  it('row 2: after the wall clock steps past expiry, no call is handed the expired token', async () => {
    const service = new TokenService();
    cleanups.push(() => service.onApplicationShutdown());
    let minted = 0;
    service.register('api', {
      cacheKey: 'api',
      generate: async () => new TokenInfo({ token: `t${++minted}`, expiresAt: Date.now() + 3_600_000 }),
    });
    const first = await service.getToken('api');
    for (let i = 0; i < 10; i++) await service.getToken('api'); // hot
    const realNow = Date.now.bind(Date);
    const step = first.expiresAt - realNow() + 60_000; // NTP step / VM resume: one minute past expiry
    const now = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + step);
    cleanups.push(() => now.mockRestore());
    await new Promise((resolve) => setImmediate(resolve)); // the step happened between two turns

    let expired = 0;
    for (let i = 0; i < 300; i++) {
      const info = await service.getToken('api');
      if (info.expiresAt <= Date.now()) expired++;
    }
    expect(expired).toBe(0);
    expect(service.getTokenInfo('api')?.token).toBe('t2');
  });

  it('row 3: evictions while a refresh runs queue at most one more; every caller settles with a token', async () => {
    const server = await endpoint();
    server.answer = (_form, res) => setTimeout(() => server.issue(res), 20);
    // A refresh timeout far above the 20 ms answer, so a loaded machine's pauses fail no caller.
    const service = new TokenService({ refreshTimeoutMs: 10_000 });
    cleanups.push(() => service.onApplicationShutdown());
    service.register('api', oauth2(server));
    const calls: Promise<unknown>[] = [service.getToken('api')]; // a refresh runs
    for (let i = 0; i < 3_000; i++) {
      calls.push(i % 3 === 0 ? service.invalidate('api') : service.getToken('api'));
    }
    const results = await Promise.allSettled(calls);
    const failed = results.filter((result) => result.status === 'rejected');
    expect(failed).toHaveLength(0); // before: 2,888 "did not answer within" failures
    expect(server.grants.length).toBeLessThanOrEqual(2); // before: 558 requests in a row
  }, 60_000);

  it.each([
    ['500', (res: ServerResponse) => json(res, 500, { error: 'server_error' }), true],
    ['503', (res: ServerResponse) => json(res, 503, { error: 'temporarily_unavailable' }), true],
    ['hang', () => undefined, true],
    ['reset', (res: ServerResponse) => res.socket?.destroy(), true],
    ['invalid_grant', (res: ServerResponse) => json(res, 400, { error: 'invalid_grant' }), false],
    ['2xx without a token', (res: ServerResponse) => json(res, 200, { nope: true }), false],
  ])(
    'row 4: refresh_token grant fails with %s, client_credentials works: every refresh succeeds',
    async (_failure, fail, keepsRefreshToken) => {
      const server = await endpoint();
      let rotation = 0;
      server.answer = (form, res) => {
        if (form.get('grant_type') === 'refresh_token') return fail(res);
        server.issue(res, { refresh_token: rotation++ === 0 ? 'rt-1' : undefined });
      };
      const service = new TokenService({ refreshTimeoutMs: 5_000 });
      cleanups.push(() => service.onApplicationShutdown());
      service.register('api', oauth2(server, systemClock, 300));
      await service.getToken('api');
      for (let i = 0; i < 6; i++)
        await expect(service.refreshToken('api')).resolves.toBeInstanceOf(TokenInfo);
      // The refresh token is spent again only when the server may still honour it.
      const spent = server.refreshTokensSeen.filter((value) => value === 'rt-1').length;
      expect(spent).toBe(keepsRefreshToken ? 6 : 1);
      expect(service.getStats().tokens.api.consecutiveFailures).toBe(0);
    },
  );

  it('row 5: an API that answers 401 to everything for 30 s costs a few renewals, not one per request', async () => {
    const logs = new LogCapture().install();
    cleanups.push(() => logs.restore());
    const clock = new ManualClock(T0);
    const service = new TokenService({ clock, random: () => 0.5 });
    cleanups.push(() => service.onApplicationShutdown());
    const strategy = new StubStrategy(clock, 3_600_000, 'api');
    service.register('api', strategy);
    const authorizer = new TokenRequestAuthorizer(service);

    let sentWithCachedToken = 0;
    for (let request = 0; request < 286; request++) {
      const sent = await service.getToken('api'); // the API answers 401…
      const retry = await authorizer.provider('api').renewAfterUnauthorized(sent.token); // …and 401 again
      if (retry.token === service.getTokenInfo('api')?.token) sentWithCachedToken++;
      clock.advance(105); // 286 requests over 30 s
    }
    // Before: 287 token requests. Renewals back off 1 s, 2 s, 4 s, 8 s, 16 s… once fresh tokens fail too.
    expect(strategy.calls).toBeLessThanOrEqual(10);
    expect(sentWithCachedToken).toBe(286);
    expect(service.getStats().tokens.api.unauthorizedRetries).toBe(286);
    expect(logs.lines.filter((line) => /401/.test(line) && /back off/.test(line))).toHaveLength(1);

    // The API accepts tokens again and a new one arrives by an ordinary refresh: its first 401 renews at once.
    clock.advance(60 * SECOND);
    await service.refreshToken('api');
    const before = strategy.calls;
    const current = service.getTokenInfo('api')!.token;
    const renewed = await authorizer.provider('api').renewAfterUnauthorized(current);
    expect(renewed.token).not.toBe(current);
    expect(strategy.calls).toBe(before + 1);
  });

  it('row 6: app.close() during a sweep whose custom strategy hangs ends within the 5 s shutdown cap', async () => {
    const logs = new LogCapture();
    const clock = new ManualClock(T0);
    let calls = 0;
    const strategy = {
      cacheKey: 'hang',
      generate: () =>
        calls++ === 0
          ? Promise.resolve(
              new TokenInfo({ token: 'h1', issuedAt: clock.now(), expiresAt: clock.now() + 60_000 }),
            )
          : new Promise<TokenInfo>(() => {}),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          clock,
          refreshTimeoutMs: 60_000,
          refresh: { enabled: false },
          providers: { hang: { type: 'custom', useFactory: () => strategy } },
        }),
      ],
    })
      .setLogger(logs)
      .compile();
    await moduleRef.init();
    await moduleRef.get(TokenService).getToken('hang');
    clock.advance(50_000);
    void moduleRef.get(TokenRefreshScheduler).sweep(30_000); // starts the refresh, which hangs
    await flushPromises();
    expect(calls).toBe(2);

    // Fake time: the 5 s cap, not a loaded machine's pauses, is what the figure shows.
    const closedAfterMs = await fakeMsUntilSettled(() => moduleRef.close()); // before: 60 s
    expect(closedAfterMs).toBeLessThan(8_000);
    expect(logs.lines.filter((line) => /abandoned/.test(line))).toHaveLength(1);
  }, 20_000);

  it('shutdownTimeoutMs from the module options caps app.close() while a custom strategy hangs', async () => {
    const logs = new LogCapture();
    const strategy = { cacheKey: 'hang-cap', generate: () => new Promise<TokenInfo>(() => {}) };
    const moduleRef = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          shutdownTimeoutMs: 100,
          refreshTimeoutMs: 60_000,
          refresh: { enabled: false },
          providers: { hang: { type: 'custom', useFactory: () => strategy } },
        }),
      ],
    })
      .setLogger(logs)
      .compile();
    await moduleRef.init();
    void moduleRef
      .get(TokenService)
      .getToken('hang')
      .catch(() => {});
    await flushPromises();
    // The default cap is 5 s; the configured 100 ms ends it far sooner (fake time: a loaded machine's
    // pauses do not count).
    expect(await fakeMsUntilSettled(() => moduleRef.close())).toBeLessThan(3_000);
    expect(logs.lines.filter((line) => /abandoned/.test(line))).toHaveLength(1);
  });

  it('row 7: a health check while the token endpoint hangs answers at once, from what the service knows', async () => {
    const server = await endpoint();
    server.answer = () => undefined; // hangs until the request timeout (10 s)
    const moduleRef: TestingModule = await Test.createTestingModule({
      imports: [
        TerminusModule,
        TokenHealthModule,
        TokenModule.forRoot({
          refresh: { enabled: false },
          providers: {
            api: { type: 'oauth2', tokenUrl: server.tokenUrl, clientId: 'svc', clientSecret: CLIENT_SECRET },
          },
        }),
      ],
    })
      .setLogger(new LogCapture())
      .compile();
    await moduleRef.init();
    cleanups.push(() => moduleRef.close());
    const indicator = moduleRef.get(TokenHealthIndicator);
    for (let check = 0; check < 3; check++) {
      const answer = await Promise.race([
        indicator.isHealthy('tokens'),
        // Half the request timeout: a loaded machine's pauses stay far below it.
        new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5_000).unref()),
      ]);
      expect(answer).not.toBe('blocked'); // before: each check waited for the 10 s request timeout
      expect(answer).toMatchObject({ tokens: { status: 'down', down: ['api'] } });
    }
    expect(server.grants.length).toBe(1); // one request, shared by every check, still hanging
    server.stop().catch(() => undefined);
  }, 20_000);

  it.each([
    ['Retry-After: 5', () => '5', 5_000, 5_000],
    ['an HTTP-date 8 s ahead', (now: number) => new Date(now + 8_000).toUTCString(), 7_000, 8_000],
    ['Retry-After: 3600, capped by the backoff maximum', () => '3600', 60_000, 60_000],
  ])(
    'row 8: token endpoint answers 503 with %s: no attempt before then',
    async (_name, retryAfter, atLeastMs, atMostMs) => {
      const server = await endpoint();
      const clock = new ManualClock(T0);
      const service = new TokenService({ clock, random: () => 0 });
      cleanups.push(() => service.onApplicationShutdown());
      service.register('api', oauth2(server, clock));
      await service.getToken('api');
      server.answer = (_form, res) =>
        json(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': retryAfter(clock.now()) });
      const failed = new Promise<number>((resolve) =>
        service.events.once('refresh-failed', ({ retryInMs }) => resolve(retryInMs)),
      );
      clock.advance(3_000_000); // inside the should-refresh window: served, refreshed behind the caller
      await service.getToken('api');
      const retryInMs = await failed;
      expect(retryInMs).toBeGreaterThanOrEqual(atLeastMs);
      expect(retryInMs).toBeLessThanOrEqual(atMostMs);
      // No attempt before then, neither from callers nor from the sweep.
      clock.advance(atLeastMs - 1);
      await service.getToken('api');
      await Promise.all(service.refreshDue(0));
      expect(server.grants).toHaveLength(2);
    },
  );
});

/**
 * Fake-clock milliseconds until `task` settles: timers and `Date` are faked while it runs, the clock
 * moving 50 ms at a time with a real turn of the event loop between steps (sockets, logs).
 */
async function fakeMsUntilSettled(task: () => Promise<unknown>, limitMs = 120_000): Promise<number> {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  try {
    const startedAt = Date.now();
    let settled = false;
    const done = task().finally(() => (settled = true));
    while (!settled && Date.now() - startedAt < limitMs) {
      await new Promise((resolve) => setImmediate(resolve));
      if (!settled) await jest.advanceTimersByTimeAsync(50);
    }
    await done;
    return Date.now() - startedAt;
  } finally {
    jest.useRealTimers();
  }
}
