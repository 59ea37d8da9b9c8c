import { describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { StubStrategy } from '../testing-support/stub-strategy.js';
import { ManualClock } from '../core/clock.js';
import { MemoryTokenStore } from '../stores/memory-token.store.js';
import { TokenEvents } from '../core/token.events.js';
import { TokenCacheEntry } from './token-cache-entry.js';
import { TokenRefresher } from './token-refresher.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

function setup() {
  const clock = new ManualClock(T0);
  const strategy = new StubStrategy(clock, HOUR, 'entry');
  const entry = new TokenCacheEntry('entry', strategy, {}, 300_000);
  const refresher = new TokenRefresher({
    clock,
    store: new MemoryTokenStore(),
    random: () => 0,
    logger: new Logger('TokenCacheEntrySpec'),
    events: new TokenEvents(),
    onSettled: () => {},
    refreshTimeoutMs: 30_000,
  });
  return { clock, strategy, entry, refresher };
}

/**
 * The entry carries what every provider needs; what only a failure, a 401 or an eviction sets is a
 * record created on first use (the 10,000-provider memory figure depends on it).
 */
describe('TokenCacheEntry incidents', () => {
  it('a provider whose refreshes succeed never gets an incidents record', async () => {
    const { clock, entry, refresher } = setup();
    await refresher.start(entry, false);
    clock.advance(HOUR - 500_000); // inside the refresh window
    await refresher.start(entry, true);
    await refresher.start(entry, false, entry.info!.token);
    entry.evicted();
    await refresher.start(entry, false);
    expect(entry.refreshes).toBe(4);
    expect(entry.incidents).toBeUndefined();
    expect(entry).toMatchObject({
      consecutiveFailures: 0,
      nextAttemptAt: 0,
      lastError: undefined,
      failures: 0,
      fallbacks: 0,
      unauthorizedRetries: 0,
      queued: undefined,
    });
  });

  it('a failure creates it; the next success ends the episode and keeps the counts', async () => {
    const { clock, strategy, entry, refresher } = setup();
    await refresher.start(entry, false);
    strategy.fail = new Error('endpoint down');
    clock.advance(HOUR - 200_000); // inside the margin
    const info = await refresher
      .start(entry, false)
      .catch((error: unknown) => refresher.fallbackOrThrow(entry, error));
    expect(info.token).toBe('token-1');
    expect(entry.incidents).toBeDefined();
    expect(entry).toMatchObject({ consecutiveFailures: 1, failures: 1, fallbacks: 1 });
    expect(entry.nextAttemptAt).toBeGreaterThan(clock.now());
    expect(entry.lastError?.message).toContain('endpoint down');

    strategy.fail = undefined;
    clock.advance(60_000); // past the backoff
    await refresher.start(entry, false);
    expect(entry).toMatchObject({
      consecutiveFailures: 0,
      nextAttemptAt: 0,
      lastError: undefined,
      expiryReported: false,
      failures: 1,
      fallbacks: 1,
    });
  });

  it('a refresh queued behind one let go by an eviction is kept in the record', async () => {
    const { entry, refresher, strategy } = setup();
    strategy.hold();
    const first = refresher.start(entry, false);
    await Promise.resolve(); // the store call starts on the next microtask
    entry.evicted();
    const second = refresher.start(entry, false);
    expect(entry.queued).toBe(second);
    strategy.release();
    expect((await first).token).toBe('token-1');
    expect((await second).token).toBe('token-2');
    expect(entry.queued).toBeUndefined();
  });
});
