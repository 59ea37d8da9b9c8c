import { describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import {
  sendJson,
  withLoopbackServer,
  type LoopbackServer,
  type RecordedRequest,
} from '../../testing-support/oauth2-loopback-server.js';
import { ManualClock } from '../../core/clock.js';
import { TokenInfo } from '../../core/token-info.js';
import {
  InvalidTokenOptionsError,
  TokenEndpointError,
  TokenEndpointHeldError,
  TokenEndpointRetryLaterError,
  TokenRequestError,
  TokenResponseError,
} from '../../core/token.errors.js';
import { mayStillHonour, refreshTokenOf } from './oauth2-refresh-token.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

const NOW = 1_700_000_000_000;

describe('refreshTokenOf', () => {
  const info = (extra: Record<string, unknown>) => new TokenInfo({ token: 'at', expiresAt: NOW, extra });

  it.each<[string, string | undefined, Record<string, unknown>]>([
    ['a non-empty string', 'rt-1', { refresh_token: 'rt-1' }],
    ['an empty string', undefined, { refresh_token: '' }],
    ['null', undefined, { refresh_token: null }],
    ['a number', undefined, { refresh_token: 42 }],
    ['a list holding a string', undefined, { refresh_token: ['rt-1'] }],
    ['an object with a length', undefined, { refresh_token: { length: 3 } }],
    ['no field', undefined, {}],
  ])('%s → %s', (_case, expected, extra) => {
    expect(refreshTokenOf(info(extra))).toBe(expected);
  });
});

describe('mayStillHonour (after a failed refresh-token grant)', () => {
  const endpoint = (status: number, error?: string) => new TokenEndpointError(status, error, undefined);

  it.each<[string, boolean, unknown]>([
    ['400 invalid_grant', false, endpoint(400, 'invalid_grant')],
    ['503 invalid_grant: refused, whatever the status', false, endpoint(503, 'invalid_grant')],
    ['429 invalid_grant', false, endpoint(429, 'invalid_grant')],
    ['200 invalid_grant', false, endpoint(200, 'invalid_grant')],
    ['400 invalid_request', false, endpoint(400, 'invalid_request')],
    ['401 invalid_client', false, endpoint(401, 'invalid_client')],
    ['428 without a code', false, endpoint(428)],
    ['499 without a code', false, endpoint(499)],
    ['500 without a code', true, endpoint(500)],
    ['502 without a code', true, endpoint(502)],
    ['503 temporarily_unavailable', true, endpoint(503, 'temporarily_unavailable')],
    ['429 slow_down', true, endpoint(429, 'slow_down')],
    [
      '429 with Retry-After',
      true,
      new TokenEndpointRetryLaterError(429, undefined, undefined, undefined, 1_000),
    ],
    [
      'held by an earlier Retry-After',
      true,
      new TokenEndpointHeldError('https://as/token', 503, NOW + 1, NOW),
    ],
    ['no answer (network, timeout)', true, new TokenRequestError('token request failed: ECONNRESET')],
    ['a 2xx that could not be read', false, new TokenResponseError('not JSON')],
    ['a configuration error', false, new InvalidTokenOptionsError('bad', undefined, 'x')],
    ['any other error', false, new TypeError('boom')],
    ['not an error', false, undefined],
  ])('%s → %s', (_case, expected, error) => {
    expect(mayStillHonour(error)).toBe(expected);
  });
});

describe('OAuth2Strategy: which refresh token the next call spends', () => {
  let server: LoopbackServer;
  let clock: ManualClock;
  withLoopbackServer(NOW, (started, fresh) => {
    server = started;
    clock = fresh;
  });

  const strategy = (extra: Partial<ConstructorParameters<typeof OAuth2Strategy>[0]> = {}) =>
    new OAuth2Strategy(
      { tokenUrl: server.tokenUrl, clientId: 'svc', clientSecret: 'client-secret-zz-9191', ...extra },
      clock,
    );
  const grants = () => server.requests.map((r) => r.form.get('grant_type'));
  const spent = () => server.requests.map((r) => r.form.get('refresh_token')).filter((rt) => rt !== null);
  type Answer = (req: RecordedRequest, res: ServerResponse) => void;
  /** Client credentials answered by `cc`, the refresh-token grant by `refresh`. */
  const byGrant = (cc: Answer, refresh: Answer) =>
    server.handle((req, res) =>
      req.form.get('grant_type') === 'refresh_token' ? refresh(req, res) : cc(req, res),
    );
  const token = (accessToken: string, extra: Record<string, unknown> = {}) =>
    ((_req, res) =>
      sendJson(res, 200, { access_token: accessToken, expires_in: 60, ...extra })) satisfies Answer;

  it.each<[string, boolean, number, unknown]>([
    ['400 invalid_grant', false, 400, { error: 'invalid_grant' }],
    ['503 invalid_grant', false, 503, { error: 'invalid_grant' }],
    ['400 invalid_request', false, 400, { error: 'invalid_request' }],
    ['401 invalid_client', false, 401, { error: 'invalid_client' }],
    ['500 server_error', true, 500, { error: 'server_error' }],
    ['502 without a body', true, 502, ''],
    ['429 slow_down (no Retry-After)', true, 429, { error: 'slow_down' }],
  ])('after %s to the refresh, the refresh token is kept: %s', async (_case, kept, status, body) => {
    const s = strategy();
    byGrant(token('at-1', { refresh_token: 'rt-1' }), token('unused'));
    await s.generate();
    // The refresh fails; the client-credentials fallback succeeds and brings no refresh token.
    byGrant(token('at-2'), (_req, res) => sendJson(res, status, body));
    expect((await s.generate()).token).toBe('at-2');
    expect(grants()).toEqual(['client_credentials', 'refresh_token', 'client_credentials']);

    byGrant(token('at-3-cc'), token('at-3-refresh'));
    const third = await s.generate();
    expect(third.token).toBe(kept ? 'at-3-refresh' : 'at-3-cc');
    expect(grants()[3]).toBe(kept ? 'refresh_token' : 'client_credentials');
    expect(spent()).toEqual(kept ? ['rt-1', 'rt-1'] : ['rt-1']);
  });

  it('after no answer at all (connection dropped), the refresh token is kept', async () => {
    const s = strategy();
    byGrant(token('at-1', { refresh_token: 'rt-1' }), token('unused'));
    await s.generate();
    byGrant(token('at-2'), (_req, res) => res.socket?.destroy());
    expect((await s.generate()).token).toBe('at-2');
    byGrant(token('at-3-cc'), token('at-3-refresh'));
    expect((await s.generate()).token).toBe('at-3-refresh');
    expect(spent()).toEqual(['rt-1', 'rt-1']);
  });

  it('after a 2xx it could not read, the refresh token is dropped (the server may have rotated it)', async () => {
    const s = strategy();
    byGrant(token('at-1', { refresh_token: 'rt-1' }), token('unused'));
    await s.generate();
    byGrant(token('at-2'), (_req, res) => sendJson(res, 200, '<html>rotated</html>'));
    expect((await s.generate()).token).toBe('at-2');
    byGrant(token('at-3-cc'), token('at-3-refresh'));
    expect((await s.generate()).token).toBe('at-3-cc');
  });

  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['null', null],
    ['a number', 7],
    ['a list', ['rt-list']],
  ])('a refresh answer whose refresh_token is %s keeps the one spent', async (_case, value) => {
    const s = strategy();
    byGrant(token('at-1', { refresh_token: 'rt-1' }), token('unused'));
    await s.generate();
    byGrant(token('at-2-cc'), token('at-2', { refresh_token: value }));
    expect((await s.generate()).token).toBe('at-2');
    byGrant(token('at-3-cc'), token('at-3'));
    expect((await s.generate()).token).toBe('at-3');
    expect(grants()).toEqual(['client_credentials', 'refresh_token', 'refresh_token']);
    expect(spent()).toEqual(['rt-1', 'rt-1']);
  });

  it("spends the fleet's refresh token (context.previous) before its own, then keeps the rotated one", async () => {
    const s = strategy();
    byGrant(token('at-1', { refresh_token: 'rt-own' }), token('at-fleet', { refresh_token: 'rt-rotated' }));
    await s.generate();
    const previous = new TokenInfo({
      token: 'at-shared',
      expiresAt: NOW,
      extra: { refresh_token: 'rt-fleet' },
    });
    expect((await s.generate({ previous })).token).toBe('at-fleet');
    // A shared token without a refresh token: the replica's own (the rotated one) is spent.
    await s.generate({ previous: new TokenInfo({ token: 'at-shared', expiresAt: NOW }) });
    await s.generate();
    expect(spent()).toEqual(['rt-fleet', 'rt-rotated', 'rt-rotated']);
  });

  it("a fresh replica spends the fleet's refresh token at once, with no client-credentials grant", async () => {
    const s = strategy();
    byGrant(token('at-cc'), token('at-fleet'));
    const previous = new TokenInfo({
      token: 'at-shared',
      expiresAt: NOW,
      extra: { refresh_token: 'rt-fleet' },
    });
    expect((await s.generate({ previous })).token).toBe('at-fleet');
    expect(grants()).toEqual(['refresh_token']);
    expect(spent()).toEqual(['rt-fleet']);
  });

  it("with useRefreshToken: false, not even the fleet's refresh token is spent", async () => {
    const s = strategy({ useRefreshToken: false });
    byGrant(token('at-cc', { refresh_token: 'rt-own' }), token('at-refresh'));
    const previous = new TokenInfo({
      token: 'at-shared',
      expiresAt: NOW,
      extra: { refresh_token: 'rt-fleet' },
    });
    await s.generate({ previous });
    await s.generate();
    expect(grants()).toEqual(['client_credentials', 'client_credentials']);
  });
});
