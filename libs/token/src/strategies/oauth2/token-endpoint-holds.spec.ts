import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../../core/clock.js';
import { TokenEndpointHeldError, TokenEndpointRetryLaterError } from '../../core/token.errors.js';
import { checkEndpointHold, holdEndpoint } from './token-endpoint-holds.js';

const T0 = Date.UTC(2026, 0, 1);
const URL_A = 'https://as.example.com/oauth2/token?tenant-key=query-canary';
const URL_B = 'https://as.example.com/other/token';

function heldError(url: string, clock: ManualClock): TokenEndpointHeldError | undefined {
  try {
    checkEndpointHold(url, clock);
    return undefined;
  } catch (error) {
    return error as TokenEndpointHeldError;
  }
}

describe('token endpoint holds (Retry-After per URL)', () => {
  it('holds one URL until the time asked, capped at 60 s; other URLs and other clocks are free', () => {
    const clock = new ManualClock(T0);
    holdEndpoint(URL_A, clock, 429, 3_600_000, clock.now());
    const error = heldError(URL_A, clock);
    expect(error).toBeInstanceOf(TokenEndpointHeldError);
    expect(error).toBeInstanceOf(TokenEndpointRetryLaterError);
    expect(error).toMatchObject({ status: 429, retryAt: T0 + 60_000, retryAfterMs: 60_000 });
    expect(error!.endpoint).toBe('https://as.example.com/oauth2/token');
    expect(error!.message).toContain('2026-01-01T00:01:00.000Z');
    expect(error!.message).not.toContain('query-canary'); // the query string may hold a secret
    expect(heldError(URL_B, clock)).toBeUndefined();
    expect(heldError(URL_A, new ManualClock(T0))).toBeUndefined();
    clock.advance(59_999);
    expect(heldError(URL_A, clock)?.retryAfterMs).toBe(1);
    clock.advance(1);
    expect(heldError(URL_A, clock)).toBeUndefined();
  });

  it('keeps the later of two instants; a zero or unreadable delay holds nothing', () => {
    const clock = new ManualClock(T0);
    holdEndpoint(URL_B, clock, 503, 20_000, clock.now());
    holdEndpoint(URL_B, clock, 429, 5_000, clock.now());
    expect(heldError(URL_B, clock)).toMatchObject({ status: 503, retryAt: T0 + 20_000 });
    const other = new ManualClock(T0);
    holdEndpoint(URL_B, other, 429, 0, other.now());
    holdEndpoint(URL_B, other, 429, Number.NaN, other.now());
    expect(heldError(URL_B, other)).toBeUndefined();
  });

  it('a later instant replaces an earlier one; an equal one keeps the status first seen', () => {
    const clock = new ManualClock(T0);
    holdEndpoint(URL_A, clock, 429, 5_000, clock.now());
    holdEndpoint(URL_A, clock, 503, 20_000, clock.now());
    expect(heldError(URL_A, clock)).toMatchObject({ status: 503, retryAt: T0 + 20_000 });
    const other = new ManualClock(T0);
    holdEndpoint(URL_A, other, 429, 5_000, other.now());
    holdEndpoint(URL_A, other, 503, 5_000, other.now());
    expect(heldError(URL_A, other)).toMatchObject({ status: 429, retryAt: T0 + 5_000 });
  });
});
