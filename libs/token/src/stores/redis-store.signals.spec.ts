import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { StoreSignals } from './redis-store.signals.js';

/**
 * The replicas' messages to each other, without Redis: a message one store's signals write is what
 * another's receive. Timers are Jest's fake ones: a wait's timeout passes only when a test moves time.
 */
function signals() {
  const errors: string[] = [];
  const logger = { error: (message: string) => errors.push(message) } as unknown as Logger;
  return { signals: new StoreSignals(logger), errors };
}

/** Whether `promise` has settled, once the callbacks already queued have run. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

beforeEach(() => {
  jest.useFakeTimers();
});

afterEach(() => {
  jest.useRealTimers();
});

describe('StoreSignals: waiting for a token', () => {
  it('a "set" message wakes every caller waiting on its key, and only those', async () => {
    const { signals: here } = signals();
    const { signals: peer } = signals();
    const first = here.waitFor('svc', 60_000);
    const second = here.waitFor('svc', 60_000);
    const elsewhere = here.waitFor('other', 60_000);
    here.receive(peer.message('set', 'svc'));
    expect([await settled(first), await settled(second), await settled(elsewhere)]).toEqual([
      true,
      true,
      false,
    ]);
    here.wakeAll();
  });

  it('an "invalidate" message wakes nobody', async () => {
    const { signals: here } = signals();
    const { signals: peer } = signals();
    const waiting = here.waitFor('svc', 60_000);
    here.receive(peer.message('invalidate', 'svc'));
    expect(await settled(waiting)).toBe(false);
    here.wakeAll();
    expect(await settled(waiting)).toBe(true);
  });

  it('a wait ends after its timeout when no message comes', async () => {
    const { signals: here } = signals();
    const waiting = here.waitFor('svc', 250);
    jest.advanceTimersByTime(249);
    expect(await settled(waiting)).toBe(false);
    jest.advanceTimersByTime(1);
    expect(await settled(waiting)).toBe(true);
  });

  it('a wait that timed out leaves the others on its key to be woken by the next message', async () => {
    const { signals: here } = signals();
    const { signals: peer } = signals();
    const short = here.waitFor('svc', 100);
    const long = here.waitFor('svc', 60_000);
    jest.advanceTimersByTime(100);
    expect(await settled(short)).toBe(true);
    here.receive(peer.message('set', 'svc'));
    expect(await settled(long)).toBe(true);
    // A new wait on the key is woken too.
    const next = here.waitFor('svc', 60_000);
    here.wake('svc');
    expect(await settled(next)).toBe(true);
  });

  it('wakeAll() (on close) wakes the callers waiting on every key', async () => {
    const { signals: here } = signals();
    const waits = [here.waitFor('a', 60_000), here.waitFor('b', 60_000), here.waitFor('b', 60_000)];
    here.wakeAll();
    expect(await Promise.all(waits.map(settled))).toEqual([true, true, true]);
  });
});

describe('StoreSignals: invalidations', () => {
  it("hands another replica's invalidation to every listener, and logs nothing", () => {
    const { signals: here, errors } = signals();
    const { signals: peer } = signals();
    const heard: string[] = [];
    here.onInvalidate((key) => heard.push(`first:${key}`));
    here.onInvalidate((key) => heard.push(`second:${key}`));
    here.receive(peer.message('invalidate', 'svc'));
    expect(heard).toEqual(['first:svc', 'second:svc']);
    expect(errors).toEqual([]);
  });

  it('an invalidation with no listener logs nothing', () => {
    const { signals: here, errors } = signals();
    here.receive(signals().signals.message('invalidate', 'svc'));
    expect(errors).toEqual([]);
  });

  it('ignores the echo of its own invalidation and a "set" message', () => {
    const { signals: here } = signals();
    const { signals: peer } = signals();
    const heard: string[] = [];
    here.onInvalidate((key) => heard.push(key));
    here.receive(here.message('invalidate', 'own'));
    here.receive(peer.message('set', 'svc'));
    expect(heard).toEqual([]);
  });

  it('logs a listener that throws and still calls the next one', () => {
    const { signals: here, errors } = signals();
    const heard: string[] = [];
    here.onInvalidate(() => {
      throw new Error('listener broke');
    });
    here.onInvalidate((key) => heard.push(key));
    here.receive(signals().signals.message('invalidate', 'svc'));
    expect(heard).toEqual(['svc']);
    expect(errors).toEqual(['invalidation listener threw: listener broke']);
  });

  it('ignores a message that is not JSON or names no key', async () => {
    const { signals: here, errors } = signals();
    const heard: unknown[] = [];
    here.onInvalidate((key) => heard.push(key));
    const waiting = here.waitFor('undefined', 60_000);
    for (const raw of ['not json', '{"t":"invalidate","o":"peer"}', '{"t":"set","o":"peer","k":7}', 'null']) {
      expect(() => here.receive(raw)).not.toThrow();
    }
    expect(heard).toEqual([]);
    expect(errors).toEqual([]);
    expect(await settled(waiting)).toBe(false);
    here.wakeAll();
  });
});
