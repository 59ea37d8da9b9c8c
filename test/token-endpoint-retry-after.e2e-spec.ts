import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ManualClock } from '../libs/token/src/core/clock.js';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { TokenAcquisitionError, TokenEndpointHeldError } from '../libs/token/src/core/token.errors.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import { LogCapture } from './support/log-capture.js';
import {
  errorRenderings,
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from './support/oauth2-loopback-server.js';

/**
 * A token endpoint's `Retry-After` holds for the endpoint (its URL), not for the one grant that got
 * it: no request of any grant, variant, provider or forced refresh reaches it before the time it
 * named (capped at the longest refresh backoff, 60 s). Real loopback endpoint, manual clock.
 */

const T0 = Date.UTC(2026, 0, 1);
const CLIENT_SECRET = 'Ra-hold-SECRET-canary-51c9';
const REFRESH_TOKEN = 'rt-hold-canary-7d03';
const CAP_MS = 60_000;

describe('Retry-After holds for the token endpoint, whatever asks next', () => {
  let server: LoopbackServer;
  let clock: ManualClock;
  let service: TokenService;
  const logs = new LogCapture();
  let issued = 0;

  beforeEach(async () => {
    logs.install();
    issued = 0;
    server = await startLoopbackServer((_request, res) => {
      issued++;
      sendJson(res, 200, {
        access_token: `at-${issued}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: REFRESH_TOKEN,
      });
    });
    clock = new ManualClock(T0);
    service = new TokenService({ clock, random: () => 0 });
  });
  afterEach(async () => {
    await service.onApplicationShutdown();
    await server.close();
    logs.restore();
  });

  const oauth2 = () =>
    new OAuth2Strategy(
      { tokenUrl: server.tokenUrl, clientId: 'svc', clientSecret: CLIENT_SECRET, timeoutMs: 10_000 },
      clock,
    );
  const grantsSince = (index: number) => server.requests.slice(index).map((r) => r.form.get('grant_type'));
  const heldCause = async (promise: Promise<unknown>): Promise<TokenEndpointHeldError> => {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(TokenAcquisitionError);
    const cause = (error as Error).cause;
    expect(cause).toBeInstanceOf(TokenEndpointHeldError);
    for (const text of errorRenderings(error)) {
      expect(text).not.toContain(CLIENT_SECRET);
      expect(text).not.toContain(REFRESH_TOKEN);
    }
    return cause as TokenEndpointHeldError;
  };

  it('row 2: after 429 Retry-After: 3600 to the refresh-token grant, no request of any grant reaches the endpoint until the (capped) time', async () => {
    service.register('api', oauth2());
    service.register('other', oauth2()); // another provider, same token URL
    await service.getToken('api');
    expect(grantsSince(0)).toEqual(['client_credentials']);

    // The refresh-token grant is answered 429 for an hour; the client's own grant would still work.
    server.handle((request, res) => {
      if (request.form.get('grant_type') === 'refresh_token') {
        sendJson(res, 429, { error: 'slow_down' }, { 'retry-after': '3600' });
        return;
      }
      issued++;
      sendJson(res, 200, { access_token: `at-${issued}`, token_type: 'Bearer', expires_in: 3600 });
    });
    const settled = new Promise<string>((resolve) => {
      service.events.once('refresh-failed', () => resolve('failed'));
      service.events.once('refreshed', () => resolve('refreshed'));
    });
    clock.advance(3_000_000); // inside the should-refresh window: served, refreshed behind the caller
    const heldAt = clock.now();
    await service.getToken('api');
    expect(await settled).toBe('failed');
    // Before: the client-credentials grant followed at once.
    expect(grantsSince(1)).toEqual(['refresh_token']);

    // A forced refresh fails fast, saying when it may try again; no request goes out.
    const forced = await heldCause(service.getToken('api', { forceRefresh: true }));
    expect(forced.retryAt).toBe(heldAt + CAP_MS);
    expect(forced.retryAfterMs).toBe(CAP_MS);
    expect(forced.status).toBe(429);
    expect(forced.message).toContain(new Date(heldAt + CAP_MS).toISOString());
    expect(forced.message).toContain(`${server.tokenUrl}`);
    // A per-call variant, another provider on the same URL, invalidate + get: all held.
    await heldCause(service.getToken('api', { scope: 'reports' }));
    await heldCause(service.getToken('other'));
    await service.invalidate('api');
    await heldCause(service.getToken('api'));
    clock.advance(CAP_MS - 1);
    const late = await heldCause(service.getToken('other'));
    expect(late.retryAt).toBe(heldAt + CAP_MS);
    expect(grantsSince(1)).toEqual(['refresh_token']);

    // Once the time has passed, requests go again.
    clock.advance(1);
    await expect(service.getToken('other')).resolves.toMatchObject({ token: expect.any(String) });
    expect(grantsSince(1)).toEqual(['refresh_token', 'client_credentials']);
  });
});
