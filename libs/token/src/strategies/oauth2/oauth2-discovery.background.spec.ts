import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { ManualClock } from '../../core/clock.js';
import { TokenRequestError } from '../../core/token.errors.js';
import { OAuth2Discovery } from './oauth2-discovery.js';

// warmUp's background retries and close(). The backoff is capped at a few milliseconds
// (maxRetryDelayMs) so that the real timers fire at once; the ManualClock decides when the backoff
// is over, and the tests move it on while they wait.

const RETRY_MS = 7;

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());

const open: OAuth2Discovery[] = [];
afterEach(() => {
  for (const discovery of open.splice(0)) discovery.close();
  jest.restoreAllMocks();
});

function discoveryOf(clock: ManualClock): OAuth2Discovery {
  const discovery = new OAuth2Discovery(server.origin, { maxRetryDelayMs: RETRY_MS }, false, clock);
  open.push(discovery);
  return discovery;
}

/** The requests for the OpenID Connect location since `start`. */
const oidcRequests = (start: number) =>
  server.requests.slice(start).filter((request) => request.path === '/.well-known/openid-configuration')
    .length;

/**
 * Moves the clock past any backoff and gives the real timers time to fire, until `done` or a
 * generous number of rounds (seconds, where the retries need milliseconds).
 */
async function waitUntil(clock: ManualClock, done: () => boolean, rounds = 300): Promise<void> {
  for (let round = 0; round < rounds && !done(); round++) {
    clock.advance(1_000);
    await sleep(10);
  }
}

const document = () => ({ issuer: server.origin, token_endpoint: `${server.origin}/token` });

describe('OAuth2Discovery background retries', () => {
  it('after a failed warmUp, retries (unref timers, the backoff delay) until a fetch succeeds', async () => {
    const clock = new ManualClock(1_000_000);
    const start = server.requests.length;
    let attempts = 0;
    server.handle((request, res) => {
      if (request.path !== '/.well-known/openid-configuration') return sendJson(res, 404, {});
      attempts += 1;
      // warmUp's fetch and the first two background ones fail.
      if (attempts <= 3) sendJson(res, 503, {});
      else sendJson(res, 200, document());
    });
    const timers = jest.spyOn(globalThis, 'setTimeout');
    const discovery = discoveryOf(clock);

    const error = await discovery.warmUp();
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error!.message).toMatch(/answered 503/);

    await waitUntil(clock, () => attempts >= 4);
    expect(attempts).toBe(4);
    // The success is cached: no fetch of its own.
    await expect(discovery.metadata()).resolves.toEqual(expect.objectContaining(document()));
    expect(oidcRequests(start)).toBe(4);

    const retryTimers = timers.mock.calls
      .map((call, index) => ({ delay: call[1], timer: timers.mock.results[index].value as NodeJS.Timeout }))
      .filter(({ delay }) => delay === RETRY_MS);
    expect(retryTimers.length).toBeGreaterThanOrEqual(3);
    for (const { timer } of retryTimers) expect(timer.hasRef()).toBe(false);

    // Nothing left scheduled once it succeeded.
    const after = oidcRequests(start);
    await waitUntil(clock, () => false, 10);
    expect(oidcRequests(start)).toBe(after);
  });

  it('close() before the first retry: no background fetch at all', async () => {
    const clock = new ManualClock(1_000_000);
    const start = server.requests.length;
    server.handle((_request, res) => sendJson(res, 503, {}));
    const discovery = discoveryOf(clock);
    expect(await discovery.warmUp()).toBeInstanceOf(TokenRequestError);
    discovery.close();
    await waitUntil(clock, () => false, 20);
    expect(oidcRequests(start)).toBe(1);
  });

  it('close() while a background fetch is in flight: no retry after it fails', async () => {
    const clock = new ManualClock(1_000_000);
    const start = server.requests.length;
    const held: ServerResponse[] = [];
    server.handle((_request, res) => {
      if (oidcRequests(start) === 1) sendJson(res, 503, {});
      else held.push(res);
    });
    const discovery = discoveryOf(clock);
    expect(await discovery.warmUp()).toBeInstanceOf(TokenRequestError);

    await waitUntil(clock, () => held.length > 0);
    expect(held.length).toBe(1);
    discovery.close();
    sendJson(held[0], 503, {});

    await waitUntil(clock, () => held.length > 1, 20);
    expect(held.length).toBe(1);
    expect(oidcRequests(start)).toBe(2);
  });

  it('without close(), the same failure keeps being retried', async () => {
    // The counterpart of the two tests above: what close() stops does happen otherwise.
    const clock = new ManualClock(1_000_000);
    const start = server.requests.length;
    server.handle((_request, res) => sendJson(res, 503, {}));
    const discovery = discoveryOf(clock);
    expect(await discovery.warmUp()).toBeInstanceOf(TokenRequestError);
    await waitUntil(clock, () => oidcRequests(start) >= 3);
    expect(oidcRequests(start)).toBeGreaterThanOrEqual(3);
  });
});
