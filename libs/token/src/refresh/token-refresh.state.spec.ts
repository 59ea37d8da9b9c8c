import { describe, expect, it } from '@jest/globals';
import { TokenInfo } from '../core/token-info.js';
import { TokenCacheEntry } from './token-cache-entry.js';
import { planRefreshWindows } from './token-refresh.policy.js';
import {
  nextInstantOf,
  refreshStateOf,
  sweepShouldRefresh,
  type RefreshStateView,
} from './token-refresh.state.js';
import { StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';

const T = 1_700_000_000_000;
// A one-hour token: refresh from +50 min, must refresh from +55 min, half life at +30 min.
const REFRESH = T + 3_000_000;
const MUST = T + 3_300_000;
const EXPIRES = T + 3_600_000;
const HALF = T + 1_800_000;
// The hand-out guard of a 5-minute margin: 250 ms.
const USABLE = EXPIRES - 250;
const info = new TokenInfo({ token: 'state-token', issuedAt: T, expiresAt: EXPIRES });
const running = Promise.resolve(info);

function entry(overrides: Partial<RefreshStateView> = {}): RefreshStateView {
  return {
    info,
    refreshAt: REFRESH,
    mustRefreshAt: MUST,
    halfLifeAt: HALF,
    usableUntil: USABLE,
    onDemandOnly: false,
    inflight: undefined,
    inflightInBackground: false,
    consecutiveFailures: 0,
    nextAttemptAt: 0,
    lastRefreshDurationMs: 0,
    ...overrides,
  };
}

const none = {
  info: undefined,
  refreshAt: -Infinity,
  mustRefreshAt: -Infinity,
  halfLifeAt: -Infinity,
  usableUntil: -Infinity,
};

describe('refresh state machine', () => {
  it.each<[string, Partial<RefreshStateView>, number, string]>([
    ['no token', none, T, 'must-refresh'],
    ['no token, a refresh running', { ...none, inflight: running }, T, 'must-refresh'],
    ['no token, cooling down', { ...none, nextAttemptAt: T + 1 }, T, 'cooling-down'],
    ['no token, backoff just over', { ...none, nextAttemptAt: T }, T, 'must-refresh'],
    [
      'no token, cooling down but a refresh running',
      { ...none, nextAttemptAt: T + 1, inflight: running },
      T,
      'must-refresh',
    ],
    ['just received', {}, T, 'fresh'],
    ['1 ms before the refresh point', {}, REFRESH - 1, 'fresh'],
    ['at the refresh point', {}, REFRESH, 'should-refresh'],
    ['at the must-refresh point', {}, MUST, 'should-refresh'],
    ['1 ms inside the margin', {}, MUST + 1, 'must-refresh'],
    [
      'inside the margin, a background refresh running',
      { inflight: running, inflightInBackground: true },
      MUST + 1,
      'should-refresh',
    ],
    ['inside the margin, a waited-for refresh running', { inflight: running }, MUST + 1, 'must-refresh'],
    [
      'inside the margin, refreshes failing',
      { consecutiveFailures: 2, nextAttemptAt: MUST + 5 },
      MUST + 1,
      'cooling-down',
    ],
    [
      'inside the margin, failing, backoff over',
      { consecutiveFailures: 2, nextAttemptAt: MUST },
      MUST + 1,
      'cooling-down',
    ],
    [
      'in the window, refreshes failing',
      { consecutiveFailures: 1, nextAttemptAt: REFRESH + 5 },
      REFRESH + 1,
      'should-refresh',
    ],
    ['1 ms before expiry', {}, EXPIRES - 1, 'must-refresh'],
    [
      'failing, 1 ms before the hand-out guard: served',
      { consecutiveFailures: 2, nextAttemptAt: EXPIRES },
      USABLE - 1,
      'cooling-down',
    ],
    [
      'failing, inside the hand-out guard, backoff over: not served',
      { consecutiveFailures: 2, nextAttemptAt: USABLE },
      USABLE,
      'must-refresh',
    ],
    [
      'inside the hand-out guard, a background refresh running: not served',
      { inflight: running, inflightInBackground: true },
      USABLE,
      'must-refresh',
    ],
    ['at expiry', {}, EXPIRES, 'must-refresh'],
    [
      'expired, failing, cooling down',
      { consecutiveFailures: 3, nextAttemptAt: EXPIRES + 10 },
      EXPIRES,
      'cooling-down',
    ],
    [
      'expired, failing, backoff over',
      { consecutiveFailures: 3, nextAttemptAt: EXPIRES },
      EXPIRES,
      'must-refresh',
    ],
  ])('%s: %s', (_name, overrides, now, expected) => {
    expect(refreshStateOf(entry(overrides), now)).toBe(expected);
  });

  it.each<[string, Partial<RefreshStateView>, number | undefined]>([
    ['no token', none, undefined],
    ['a refresh running', { inflight: running }, undefined],
    ['fresh, quick refreshes', {}, REFRESH],
    ['fresh, unknown refresh duration', { lastRefreshDurationMs: undefined }, REFRESH],
    ['refreshes take 10 min: earlier', { lastRefreshDurationMs: 600_000 }, MUST - 600_000],
    ['refreshes take 5 min: the same instant', { lastRefreshDurationMs: 300_000 }, REFRESH],
    ['refreshes take 40 min: not before half its life', { lastRefreshDurationMs: 2_400_000 }, HALF],
    ['failing: when the backoff ends', { consecutiveFailures: 1, nextAttemptAt: T + 42 }, T + 42],
    ['made from a per-call credential: never', { onDemandOnly: true }, undefined],
  ])('next instant of interest, %s', (_name, overrides, expected) => {
    expect(nextInstantOf(entry(overrides))).toBe(expected);
  });

  it.each<[string, Partial<RefreshStateView>, number, number, boolean]>([
    ['never fetched', none, EXPIRES, 30_000, false],
    ['a refresh running', { inflight: running }, REFRESH, 30_000, false],
    ['fresh, next sweep well before the margin', {}, T + 60_000, 30_000, false],
    ['at the refresh point', {}, REFRESH, 0, true],
    ['1 ms before the refresh point, no horizon', {}, REFRESH - 1, 0, false],
    ['would enter the margin before the next sweep', {}, REFRESH - 1, 300_002, true],
    ['would reach the margin exactly at the next sweep', {}, REFRESH - 1, 300_001, false],
    ['a long horizon, before half its life', {}, HALF - 1, 4_000_000, false],
    ['a long horizon, at half its life', {}, HALF, 4_000_000, true],
    ['slow refreshes count', { lastRefreshDurationMs: 20_000 }, REFRESH - 1, 280_002, true],
    ['slow refreshes count, not yet', { lastRefreshDurationMs: 20_000 }, REFRESH - 1, 280_001, false],
    ['cooling down', { consecutiveFailures: 1, nextAttemptAt: REFRESH + 1 }, REFRESH, 30_000, false],
    ['backoff over', { consecutiveFailures: 1, nextAttemptAt: REFRESH }, REFRESH, 30_000, true],
    ['expired, backoff over', { consecutiveFailures: 4, nextAttemptAt: EXPIRES }, EXPIRES + 1, 30_000, true],
    ['made from a per-call credential, due', { onDemandOnly: true }, REFRESH, 30_000, false],
  ])('the sweep, %s', (_name, overrides, now, horizonMs, expected) => {
    expect(sweepShouldRefresh(entry(overrides), now, horizonMs)).toBe(expected);
  });
});

describe('renewals after a 401 (the cell)', () => {
  /** A cell holding `token`, taken in through the `refreshed` transition. */
  function cell(token = 'a'): TokenCacheEntry {
    const clock = new ManualClock(T);
    const entry = new TokenCacheEntry('renewal', new StubStrategy(clock, 3_600_000, 'renewal'), {}, 300_000);
    take(entry, token);
    return entry;
  }
  function take(entry: TokenCacheEntry, token: string): void {
    const info = new TokenInfo({ token, issuedAt: T, expiresAt: EXPIRES });
    entry.refreshed(
      info,
      planRefreshWindows(EXPIRES, T, 300_000, () => 0),
      T,
      T,
      'issued',
    );
  }

  it('renews at once on the first 401 for a token from an ordinary refresh', () => {
    expect(cell('a').rejectedByApi('a', T, () => 0)).toEqual({ renewal: 'renew', episodeStarted: false });
  });

  it('uses the current token when the rejected one was already replaced or evicted', () => {
    expect(cell('b').rejectedByApi('a', T, () => 0).renewal).toBe('use-current');
    const evicted = cell('a');
    evicted.evicted();
    expect(evicted.rejectedByApi('a', T, () => 0).renewal).toBe('use-current');
  });

  it('backs off, doubling, from the second renewed token in a row rejected before being accepted; one episode start', () => {
    const state = cell('r1');
    state.renewedAfterRejection('r1');
    // The first renewed token rejected: it may have been revoked since; renewed at once.
    expect(state.rejectedByApi('r1', T, () => 0)).toEqual({ renewal: 'renew', episodeStarted: false });
    expect(state.rejectedRenewals).toBe(1);
    take(state, 'r2');
    state.renewedAfterRejection('r2');
    const steps: Array<[string, number, string, boolean, number]> = [
      // rejected token, now, decision, episode started, rejected renewals
      ['r2', T, 'hold', true, 2], // 0.5–1 s backoff (random 0: 500 ms)
      ['r2', T + 499, 'hold', false, 2], // the same token again: counted once
      ['r2', T + 500, 'renew', false, 2],
    ];
    for (const [token, now, decision, started, count] of steps) {
      expect(state.rejectedByApi(token, now, () => 0)).toEqual({
        renewal: decision,
        episodeStarted: started,
      });
      expect(state.rejectedRenewals).toBe(count);
    }
    // The renewal brought r3, rejected as well: 1 s now.
    take(state, 'r3');
    state.renewedAfterRejection('r3');
    expect(state.rejectedByApi('r3', T + 600, () => 0)).toEqual({ renewal: 'hold', episodeStarted: false });
    expect(state.nextRenewalAt).toBe(T + 1_600);
    expect(state.rejectedRenewals).toBe(3);
    // A token from an ordinary refresh ends the episode: its first 401 renews at once.
    take(state, 'o1');
    expect(state.rejectedByApi('o1', T + 700, () => 0).renewal).toBe('renew');
    expect(state).toMatchObject({ rejectedRenewals: 0, nextRenewalAt: 0 });
  });

  it('a renewed token the API accepted and then rejects is a revocation: renewed at once', () => {
    const state = cell('r1');
    state.renewedAfterRejection('r1');
    state.acceptedByApi('r1');
    expect(state.rejectedByApi('r1', T, () => 0)).toEqual({ renewal: 'renew', episodeStarted: false });
    expect(state.rejectedRenewals).toBe(0);
  });

  it('acceptance of another token changes nothing', () => {
    const state = cell('r1');
    state.renewedAfterRejection('r1');
    state.rejectedByApi('r1', T, () => 0);
    take(state, 'r2');
    state.renewedAfterRejection('r2');
    state.acceptedByApi('other');
    expect(state.rejectedByApi('r2', T, () => 0).renewal).toBe('hold');
  });
});
