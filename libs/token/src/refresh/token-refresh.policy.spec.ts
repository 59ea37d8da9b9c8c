import { describe, expect, it } from '@jest/globals';
import { retryAfterMsOf } from '../strategies/oauth2/token-endpoint-response.js';
import { TOKEN_DEFAULTS } from '../core/token.constants.js';
import {
  effectiveMarginMs,
  nextAttemptDelayMs,
  planRefreshWindows,
  retryDelayMs,
} from './token-refresh.policy.js';

const T = 1_700_000_000_000;
const MIN = 60_000;
const fixed = (value: number) => () => value;

describe('refresh policy', () => {
  it.each([
    // configured margin, lifetime, effective margin
    [300_000, 3_600_000, 300_000],
    [300_000, 1_200_000, 300_000], // exactly a quarter
    [300_000, 1_199_996, 299_999], // 1 ms of margin inside the cap
    [300_000, 10_000, 2_500],
    [0, 3_600_000, 0],
    [300_000, 0, 0],
    [300_000, -5_000, 0], // already expired: never negative
  ])('margin %i ms on a %i ms lifetime is %i ms', (configured, lifetime, expected) => {
    expect(effectiveMarginMs(configured, lifetime)).toBe(expected);
  });

  it.each([
    // lifetime, margin, random, refreshAt, mustRefreshAt, halfLifeAt (offsets from T)
    [60 * MIN, 5 * MIN, 0, 50 * MIN, 55 * MIN, 30 * MIN],
    [60 * MIN, 5 * MIN, 0.5, 50 * MIN + 75_000, 55 * MIN, 30 * MIN],
    [60 * MIN, 5 * MIN, 1, 52.5 * MIN, 55 * MIN, 30 * MIN], // jitter: at most half a margin
    [10_000, 5 * MIN, 0, 5_000, 7_500, 5_000], // capped margin: refresh at half the life
    [10_000, 5 * MIN, 1, 6_250, 7_500, 5_000],
    [60 * MIN, 0, 0.7, 60 * MIN, 60 * MIN, 30 * MIN], // no margin: refresh at expiry
  ])(
    'a %i ms token with a %i ms margin and random %d: refresh at %i, must at %i, half life at %i',
    (lifetime, margin, random, refreshAt, mustRefreshAt, halfLifeAt) => {
      const windows = planRefreshWindows(T + lifetime, T, margin, fixed(random));
      expect(windows).toEqual({
        refreshAt: T + refreshAt,
        mustRefreshAt: T + mustRefreshAt,
        expiresAt: T + lifetime,
        halfLifeAt: T + halfLifeAt,
        marginMs: Math.min(margin, lifetime / 4),
      });
    },
  );

  it('never plans the background refresh after the must-refresh point, whatever the jitter', () => {
    for (let i = 0; i <= 100; i++) {
      const windows = planRefreshWindows(T + 3_600_000, T, 300_000, fixed(i / 100));
      expect(windows.refreshAt).toBeLessThanOrEqual(windows.mustRefreshAt);
      expect(windows.refreshAt).toBeGreaterThanOrEqual(windows.halfLifeAt);
    }
  });

  it.each([
    // failures, random, delay
    [1, 0, 500],
    [1, 1, 1_000],
    [2, 0, 1_000],
    [2, 0.5, 1_500],
    [3, 1, 4_000],
    [6, 0, 16_000],
    [7, 0, 30_000], // 64 s capped at 60 s
    [7, 1, 60_000],
    [50, 1, 60_000],
    [0, 1, 1_000], // nonsense counts are treated as the first failure
    [-3, 0, 500],
  ])('after %i failures with random %d the retry waits %i ms', (failures, random, delay) => {
    expect(retryDelayMs(failures, fixed(random))).toBe(delay);
  });

  it.each([
    // failures, random, Retry-After, delay
    [1, 0, undefined, 500],
    [1, 0, 5_000, 5_000], // the server asks for longer than the backoff
    [3, 1, 1_000, 4_000], // shorter than the backoff: the backoff stands
    [3, 1, 4_000, 4_000],
    [1, 0, 3_600_000, TOKEN_DEFAULTS.retryMaxDelayMs], // capped at the longest backoff
    [1, 0, 0, 500],
    [1, 0, Number.NaN, 500],
  ])(
    'after %i failures, random %d and Retry-After %p ms the next attempt waits %i ms',
    (failures, random, after, delay) => {
      expect(nextAttemptDelayMs(failures, fixed(random), after)).toBe(delay);
    },
  );

  it.each([
    // failures, random, Retry-After, valid for, delay
    [3, 1, undefined, 1_500, 1_500], // the backoff (4 s) would outlast the token: one attempt by its expiry
    [3, 1, undefined, 4_000, 4_000],
    [3, 1, undefined, 9_000, 4_000], // the token outlasts the backoff: the backoff stands
    [3, 1, undefined, 0, 4_000], // nothing valid left: the plain backoff
    [3, 1, undefined, -5, 4_000],
    [3, 1, 10_000, 1_500, 10_000], // the server's Retry-After is obeyed even so
  ])(
    'after %i failures, random %d, Retry-After %p and a token valid %i ms more, the next attempt waits %i ms',
    (failures, random, after, validFor, delay) => {
      expect(nextAttemptDelayMs(failures, fixed(random), after, validFor)).toBe(delay);
    },
  );

  it.each([
    ['5', 5_000],
    [' 120 ', 120_000],
    ['0', 0],
    [new Date(T + 8_000).toUTCString(), 8_000],
    [new Date(T - 8_000).toUTCString(), 0], // a date in the past: no wait
    ['Sun, 06 Nov 1994 08:49:37 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('Retry-After %p is %p ms', (value, expected) => {
    expect(retryAfterMsOf(value, T)).toBe(expected);
  });
});
