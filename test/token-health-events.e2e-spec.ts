import { afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { HealthCheckService, TerminusModule, type HealthCheckResult } from '@nestjs/terminus';
import { Test, type TestingModule } from '@nestjs/testing';
import { ManualClock } from '../libs/token/src/core/clock.js';
import { TokenHealthIndicator, TokenHealthModule } from '../libs/token/src/health/index.js';
import { TokenModule } from '../libs/token/src/module/token.module.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import { TokenEventEmitterBridge } from '../libs/token/src/module/token-event-emitter.bridge.js';
import { LogCapture } from './support/log-capture.js';
import { StubStrategy } from './support/stub-strategy.js';

const T0 = Date.UTC(2026, 0, 1);
const SECOND = 1_000;

describe('health indicator and events', () => {
  let moduleRef: TestingModule | undefined;
  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  async function start(imports: Parameters<typeof Test.createTestingModule>[0]['imports'] = []) {
    const clock = new ManualClock(T0);
    const kling = new StubStrategy(clock, 100 * SECOND, 'kling');
    const github = new StubStrategy(clock, 1000 * SECOND, 'github');
    const logs = new LogCapture();
    moduleRef = await Test.createTestingModule({
      imports: [
        ...(imports ?? []),
        TokenModule.forRoot({
          clock,
          refresh: { enabled: false },
          providers: {
            kling: { type: 'custom', useFactory: () => kling },
            github: { type: 'custom', useFactory: () => github },
          },
        }),
      ],
    })
      .setLogger(logs)
      .compile();
    await moduleRef.init();
    return { clock, kling, github, logs, tokens: moduleRef.get(TokenService) };
  }

  it('the health indicator is up with valid tokens, degraded while a refresh fails, down without a valid token, up again after recovery', async () => {
    const { clock, kling, tokens } = await start([TerminusModule, TokenHealthModule]);
    const health = moduleRef!.get(HealthCheckService);
    const indicator = moduleRef!.get(TokenHealthIndicator);
    const check = (providers?: string[]): Promise<HealthCheckResult> =>
      health
        .check([() => indicator.isHealthy('tokens', { providers })])
        .catch((error: { getResponse(): HealthCheckResult }) => error.getResponse());

    // Cold providers: the check asks for their first token.
    let result = await check();
    expect(result.status).toBe('ok');
    expect(result.details.tokens).toMatchObject({
      status: 'up',
      down: [],
      degraded: [],
      providers: {
        kling: { status: 'up', expiresInMs: 100 * SECOND, consecutiveFailures: 0 },
        github: { status: 'up', expiresInMs: 1000 * SECOND, consecutiveFailures: 0 },
      },
    });

    // Refreshes fail while the token is still valid: degraded, still serving.
    kling.fail = new Error('connect ECONNREFUSED');
    clock.set(T0 + 80 * SECOND);
    await tokens.getToken('kling');
    result = await check();
    expect(result.status).toBe('degraded');
    expect(result.details.tokens).toMatchObject({
      status: 'degraded',
      degraded: ['kling'],
      providers: { kling: { status: 'degraded', expiresInMs: 20 * SECOND, consecutiveFailures: 1 } },
    });

    // Expired, endpoint still down: down, naming the provider; no token value in the report.
    clock.set(T0 + 101 * SECOND);
    result = await check();
    expect(result.status).toBe('error');
    expect(result.error?.tokens).toMatchObject({
      status: 'down',
      down: ['kling'],
      providers: { kling: { status: 'down', expiresInMs: -SECOND }, github: { status: 'up' } },
    });
    expect(JSON.stringify(result)).not.toMatch(/token-\d/);
    expect((await check(['github'])).status).toBe('ok'); // only the listed providers count

    // The endpoint is back: the next check gets a token (once the cool-down has passed) and is up.
    kling.fail = undefined;
    clock.advance(61 * SECOND);
    result = await check();
    expect(result.status).toBe('ok');
    expect(result.details.tokens).toMatchObject({
      status: 'up',
      providers: { kling: { status: 'up', consecutiveFailures: 0 } },
    });
  });

  it('with obtainMissing: false a provider never fetched reads as down', async () => {
    await start([TerminusModule, TokenHealthModule]);
    const indicator = moduleRef!.get(TokenHealthIndicator);
    const result = await indicator.isHealthy('tokens', {
      obtainMissing: false,
      providers: ['kling', 'nope'],
    });
    expect(result.tokens).toMatchObject({ status: 'down', down: ['kling', 'nope'] });
  });

  it('re-emits every event on EventEmitter2 as token.*, from the same points as the log lines', async () => {
    const { clock, kling, logs, tokens } = await start([EventEmitterModule.forRoot()]);
    expect(moduleRef!.get(TokenEventEmitterBridge).attached).toBe(true);
    const emitter = moduleRef!.get(EventEmitter2);
    const seen: { event: string; payload: Record<string, unknown> }[] = [];
    emitter.onAny((event, payload) => seen.push({ event: String(event), payload }));
    const count = (event: string) => seen.filter((e) => e.event === event).length;
    const lines = (level: string, text: string) =>
      logs.lines.filter((l) => l.startsWith(level) && l.includes(text)).length;

    await tokens.getToken('kling'); // refreshed
    kling.fail = new Error('503');
    clock.set(T0 + 80 * SECOND);
    await tokens.getToken('kling'); // refresh-failed, then fallback-served
    await tokens.getToken('kling'); // fallback-served (cooling down)
    clock.set(T0 + 101 * SECOND);
    await expect(tokens.getToken('kling')).rejects.toThrow(/503/); // refresh-failed + expired
    await expect(tokens.getToken('kling')).rejects.toThrow(/503/); // expired (cooling down)
    kling.fail = undefined;
    clock.advance(61 * SECOND);
    await tokens.getToken('kling'); // refreshed again

    expect(seen.map((e) => e.event)).toEqual([
      'token.refreshed',
      'token.refresh-failed',
      'token.fallback-served',
      'token.fallback-served',
      'token.refresh-failed',
      'token.expired',
      'token.expired',
      'token.refreshed',
    ]);
    expect(seen[0].payload).toMatchObject({
      provider: 'kling',
      background: false,
      expiresAt: T0 + 100 * SECOND,
    });
    expect(seen[1].payload).toMatchObject({ provider: 'kling', consecutiveFailures: 1 });
    expect(JSON.stringify(seen.map((e) => e.payload))).not.toMatch(/token-\d/);

    expect(lines('log', 'new token')).toBe(count('token.refreshed'));
    expect(lines('log', 'recovered after 2 failed attempts')).toBe(1);
    // One line per failed attempt: a WARN while the cached token serves, an ERROR once callers fail.
    expect(lines('warn', 'could not get a token')).toBe(1);
    expect(lines('error', 'could not get a token')).toBe(1);
    expect(lines('', 'could not get a token')).toBe(count('token.refresh-failed'));
    expect(lines('error', 'callers fail')).toBe(1); // once per failure episode, not per caller
  });

  it('without EventEmitterModule the bridge stays idle and nothing breaks', async () => {
    const { tokens } = await start();
    expect(moduleRef!.get(TokenEventEmitterBridge).attached).toBe(false);
    await expect(tokens.getToken('kling')).resolves.toMatchObject({ token: 'token-1' });
  });
});
