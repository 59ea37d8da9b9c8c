import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { RedisTokenStore } from '../libs/token/src/stores/redis-token.store.js';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { RedisServerProcess } from './support/fleet-redis-server.js';

/**
 * The Redis budget: a redis-server of the test's own is stalled with SIGSTOP (its sockets stay open,
 * nothing answers), and no call on the store may wait on it much longer than the budget.
 */
const encryptionKeys = [{ kid: 'budget', key: randomBytes(32).toString('base64') }];
/**
 * Without the budget, a call on a stalled Redis waits for the connection's command timeout (1 s, the
 * floor `commandTimeout` gets) or for ever; with it, about the budget (100 ms by default). A wait
 * must stay below that 1 s scale: proof that the budget, not a timeout, ended it. The waits are
 * measured on fake timers (the sockets and the stalled server stay real): on a loaded machine a real
 * pause of the test process could otherwise blur the budget into the command timeout.
 */
const COMMAND_TIMEOUT_MS = 1_000;

let redis: RedisServerProcess | undefined;
let store: RedisTokenStore | undefined;

afterEach(async () => {
  jest.useRealTimers();
  redis?.resume();
  await store?.close();
  await redis?.stop();
  store = undefined;
  redis = undefined;
});

const mint = () =>
  new TokenInfo({ token: `budget-${randomBytes(8).toString('hex')}`, expiresAt: Date.now() + 60_000 });

/** Stops the clock (timers and `Date`) for the store's budget and ioredis' command timeout alike. */
function fakeTimers(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
}

/**
 * Fake milliseconds until `task` settles: the clock moves 10 ms at a time, with a real turn of the
 * event loop between steps for socket events, up to twice the command timeout.
 */
async function timed(task: () => Promise<unknown>): Promise<number> {
  const startedAt = Date.now();
  let settled = false;
  const done = task().finally(() => (settled = true));
  while (!settled && Date.now() - startedAt < 2 * COMMAND_TIMEOUT_MS) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled) await jest.advanceTimersByTimeAsync(10);
  }
  await done;
  return Date.now() - startedAt;
}

describe('the Redis budget (redis-server stalled with SIGSTOP)', () => {
  it('no caller and no invalidate() waits on a stalled Redis longer than the default budget', async () => {
    redis = await RedisServerProcess.start();
    store = new RedisTokenStore({ url: redis.url, keyPrefix: 'ntm-budget:', encryptionKeys });
    const shared = store;
    const first = mint();
    expect(
      await shared.obtain(
        'svc',
        async () => first,
        () => true,
      ),
    ).toBe(first);

    redis.pause();
    fakeTimers();
    const waits: Record<string, number> = {};
    for (let round = 1; round <= 3; round++) {
      const own = mint();
      let got: TokenInfo | undefined;
      waits[`obtain #${round}`] = await timed(async () => {
        got = await shared.obtain(
          'svc',
          async () => own,
          () => false,
        );
      });
      expect(got).toBe(own); // worked on its own
      waits[`invalidate #${round}`] = await timed(() => shared.invalidate('svc'));
      waits[`invalidate onlyIfToken #${round}`] = await timed(() => shared.invalidate('svc', own.token));
    }
    const slow = Object.entries(waits).filter(([, ms]) => ms >= COMMAND_TIMEOUT_MS);
    expect(slow).toEqual([]);
  });

  it('honours a configured budget', async () => {
    redis = await RedisServerProcess.start();
    // Far enough from the 100 ms default and from the 1 s command timeout to tell both apart.
    const budgetMs = 400;
    store = new RedisTokenStore({ url: redis.url, keyPrefix: 'ntm-budget:', encryptionKeys, budgetMs });
    const shared = store;
    expect(
      await shared.obtain(
        'svc',
        async () => mint(),
        () => true,
      ),
    ).toBeInstanceOf(TokenInfo);
    redis.pause();
    fakeTimers();
    const waited = await timed(() =>
      shared.obtain(
        'svc',
        async () => mint(),
        () => false,
      ),
    );
    // Waited the configured budget (a timer never fires early; 50 ms for the clock's 10 ms steps), not
    // the default, and gave up before the command timeout would have.
    expect(waited).toBeGreaterThanOrEqual(budgetMs - 50);
    expect(waited).toBeLessThan(COMMAND_TIMEOUT_MS);
  });
});
