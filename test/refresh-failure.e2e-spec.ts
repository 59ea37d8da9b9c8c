import { afterEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '../libs/token/src/core/clock.js';
import { TokenAcquisitionError } from '../libs/token/src/core/token.errors.js';
import { TokenModule } from '../libs/token/src/module/token.module.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import { TokenRefreshScheduler } from '../libs/token/src/module/token-refresh.scheduler.js';
import { LogCapture } from './support/log-capture.js';

/**
 * A real OAuth2 token endpoint on loopback that fails in the ways endpoints do, while a ManualClock
 * moves token time and the refresh sweep is run by hand (`scheduler.sweep`), so nothing depends on
 * how fast this machine is. Only the hanging endpoint waits on real time: the request timeout, 1.5 s
 * so that a loaded machine never times out a good answer.
 */

const T0 = Date.UTC(2026, 0, 1);
const LIFETIME_S = 100; // margin: 300 s capped at a quarter → 25 s; background refresh from 50–62.5 s
const SECOND = 1_000;

type Failure = '500' | 'hang' | 'refused';

/** A token endpoint on 127.0.0.1 that can answer 500, hang, or stop listening and come back on its port. */
class TokenEndpoint {
  requests = 0;
  issued = 0;
  failure: Failure | undefined;
  /** Replaces the normal answer, e.g. to hand back the same token. */
  answer: ((res: ServerResponse) => void) | undefined;
  private port = 0;
  private readonly server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      this.requests++;
      if (this.failure === 'hang') return; // never answers; the client's timeout ends it
      if (this.failure === '500') return json(res, 500, { error: 'server_error' });
      if (this.answer) return this.answer(res);
      this.issued++;
      json(res, 200, { access_token: `token-${this.issued}`, token_type: 'Bearer', expires_in: LIFETIME_S });
    });
  });

  get tokenUrl(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async fail(failure: Failure): Promise<void> {
    this.failure = failure;
    if (failure === 'refused') await this.stop();
  }

  async recover(): Promise<void> {
    if (this.failure === 'refused') await this.start(); // same port: the strategy's URL is fixed
    this.failure = undefined;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(body));
}

/** An unsigned JWT: the strategy only reads `exp` when the server sends no `expires_in`. */
function jwtExpiringAt(expiresAtMs: number, id: number): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'svc', jti: String(id), exp: expiresAtMs / 1000 })}.c2ln`;
}

async function startApp(endpoint: TokenEndpoint, clock: ManualClock) {
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [
      TokenModule.forRoot({
        clock,
        refresh: { enabled: false }, // sweeps run by hand
        providers: {
          api: {
            type: 'oauth2',
            tokenUrl: endpoint.tokenUrl,
            clientId: 'svc',
            clientSecret: 'not-logged',
            timeoutMs: 1_500,
          },
        },
      }),
    ],
  })
    .setLogger(new LogCapture())
    .compile();
  await moduleRef.init();
  return { moduleRef, tokens: moduleRef.get(TokenService), scheduler: moduleRef.get(TokenRefreshScheduler) };
}

/** True when the promise settled within a few microtasks: nobody waited on I/O. */
async function settledAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 3; i++) await Promise.resolve();
  return settled;
}

/** Several callers at once; counts those that waited and those that failed. */
async function callers(
  tokens: TokenService,
  tally: { blocked: number; failed: number; served: number },
  count = 5,
) {
  for (let i = 0; i < count; i++) {
    const call = tokens.getToken('api');
    if (!(await settledAtOnce(call))) tally.blocked++;
    await call.then(
      () => tally.served++,
      () => tally.failed++,
    );
  }
}

describe('refresh failures against a real token endpoint', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup() {
    const endpoint = await new TokenEndpoint().start();
    cleanups.push(() => endpoint.stop());
    const clock = new ManualClock(T0);
    const app = await startApp(endpoint, clock);
    cleanups.push(() => app.moduleRef.close());
    return { endpoint, clock, ...app };
  }

  it.each<Failure>(['500', 'hang', 'refused'])(
    'endpoint %s while the token is valid: zero failed or blocked callers, backoff between attempts, typed error after expiry, recovery',
    async (failure) => {
      const { endpoint, clock, tokens, scheduler } = await setup();
      const first = await tokens.getToken('api');
      expect(first.token).toBe('token-1');

      await endpoint.fail(failure);
      clock.set(T0 + 63 * SECOND); // past the background-refresh point, before the margin
      const tally = { blocked: 0, failed: 0, served: 0 };
      const stepMs = 250;
      for (let elapsed = 0; elapsed < 30 * SECOND; elapsed += stepMs) {
        clock.advance(stepMs);
        await callers(tokens, tally);
        await scheduler.sweep(SECOND);
      }
      // 120 sweeps and 600 calls over 30 s; attempts after 0.5–1 s, 1–2 s, 2–4 s, 4–8 s, 8–16 s… of backoff.
      expect(tally).toEqual({ blocked: 0, failed: 0, served: 600 });
      const stats = tokens.getStats().tokens.api;
      expect(stats.failures).toBeGreaterThanOrEqual(4);
      expect(stats.failures).toBeLessThanOrEqual(7);
      expect(stats).toMatchObject({ degraded: true, consecutiveFailures: stats.failures, isExpired: false });
      if (failure !== 'refused') expect(endpoint.requests).toBe(1 + stats.failures);

      clock.set(first.expiresAt); // expired, endpoint still failing
      const error = await tokens.getToken('api').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenAcquisitionError);
      expect(error).toMatchObject({ provider: 'api', code: 'TOKEN_ACQUISITION_FAILED' });
      expect((error as Error).message).toMatch(
        failure === 'refused' ? /ECONNREFUSED/ : failure === 'hang' ? /timed out/ : /500/,
      );
      expect((error as Error).message).not.toContain('not-logged');

      await endpoint.recover();
      clock.advance(61 * SECOND); // past the longest backoff
      await scheduler.sweep(SECOND); // no caller needed: the sweep retries the expired provider
      const recovered = tokens.getToken('api');
      expect(await settledAtOnce(recovered)).toBe(true);
      await expect(recovered).resolves.toMatchObject({ token: 'token-2' });
      expect(tokens.getStats().tokens.api).toMatchObject({ degraded: false, consecutiveFailures: 0 });
    },
  );

  it('a hanging refresh started by the sweep does not block callers once the token enters its margin', async () => {
    const { endpoint, clock, tokens, scheduler } = await setup();
    const first = await tokens.getToken('api');
    await endpoint.fail('hang');
    clock.set(T0 + 63 * SECOND);
    const sweep = scheduler.sweep(SECOND); // starts the refresh, which hangs
    clock.set(T0 + 90 * SECOND); // inside the 25 s margin, still valid
    const tally = { blocked: 0, failed: 0, served: 0 };
    await callers(tokens, tally, 20);
    expect(tally).toEqual({ blocked: 0, failed: 0, served: 20 });
    expect(await tokens.getToken('api')).toBe(first);
    await sweep; // the request times out
    expect(tokens.getStats().tokens.api).toMatchObject({ failures: 1, degraded: true });
    expect(endpoint.requests).toBe(2);
  });

  it.each([
    ['the same token with the same expiry', true],
    ['the same token value with a new expiry', false],
  ])(
    'an endpoint that keeps handing back %s causes no refresh loop through the sweep',
    async (_name, sameExpiry) => {
      const { endpoint, clock, tokens, scheduler } = await setup();
      let expiresAt = T0 + LIFETIME_S * SECOND;
      let generation = 1;
      endpoint.answer = (res) => {
        if (sameExpiry) {
          // Like a server that caches its token: the same JWT until it expires, then a new one.
          if (clock.now() >= expiresAt) {
            expiresAt = clock.now() + LIFETIME_S * SECOND;
            generation++;
          }
          json(res, 200, { access_token: jwtExpiringAt(expiresAt, generation), token_type: 'Bearer' });
        } else {
          json(res, 200, { access_token: 'static-token', token_type: 'Bearer', expires_in: LIFETIME_S });
        }
      };
      await tokens.getToken('api');

      const tally = { blocked: 0, failed: 0, served: 0 };
      const lifetimes = 3;
      const stepMs = 250;
      for (let elapsed = 0; elapsed < lifetimes * LIFETIME_S * SECOND; elapsed += stepMs) {
        clock.advance(stepMs);
        await callers(tokens, tally, 2);
        if (elapsed % SECOND === 0) await scheduler.sweep(SECOND);
      }
      // Only where the server itself swaps tokens (the cached one has expired) can a caller wait.
      expect(tally).toMatchObject({ failed: 0, blocked: sameExpiry ? expect.any(Number) : 0 });
      expect(tally.blocked).toBeLessThanOrEqual(sameExpiry ? lifetimes : 0);
      // 2,400 calls and 300 sweeps. A token handed back with its old expiry is used for half of
      // what is left each time: a few requests per lifetime, never one per call or per sweep.
      const most = sameExpiry ? lifetimes * 10 : lifetimes * 2 + 1;
      expect(endpoint.requests).toBeLessThanOrEqual(most);
      expect(endpoint.requests).toBeGreaterThanOrEqual(lifetimes);
    },
  );
});
