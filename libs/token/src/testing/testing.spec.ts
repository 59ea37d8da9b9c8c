import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TokenModule } from '../module/token.module.js';
import { TokenAcquisitionError } from '../core/token.errors.js';
import { TOKEN_DEFAULTS } from '../core/token.constants.js';
import { TokenService } from '../module/token.service.js';
import { FakeTokenStrategy, InMemoryTokenStore, ManualClock } from './index.js';

describe('nest-token-manager/testing', () => {
  it('FakeTokenStrategy counts generate() calls and mints tokens that live lifetimeMs on the clock', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const strategy = new FakeTokenStrategy(clock, 60_000);
    const tokens = new TokenService({ clock });
    tokens.register('api', strategy);
    expect((await tokens.getToken('api')).token).toBe('token-1');
    expect((await tokens.getToken('api')).token).toBe('token-1');
    expect(strategy.calls).toBe(1);
    clock.advance(60_000);
    expect((await tokens.getToken('api')).token).toBe('token-2');
    expect(strategy.calls).toBe(2);
    await tokens.onApplicationShutdown();
  });

  it('works as a custom provider of TokenModule, time driven by the ManualClock (as docs/testing.md shows)', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const payments = new FakeTokenStrategy(clock, 60 * 60_000);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          clock,
          refresh: { enabled: false },
          providers: { payments: { type: 'custom', useFactory: () => payments } },
        }),
      ],
    }).compile();
    const tokens = moduleRef.get(TokenService);
    expect((await tokens.getToken('payments')).token).toBe('token-1');
    expect((await tokens.getToken('payments')).token).toBe('token-1');
    expect(payments.calls).toBe(1);
    clock.advance(60 * 60_000);
    expect((await tokens.getToken('payments')).token).toBe('token-2');
    expect(payments.calls).toBe(2);
    await moduleRef.close();
  });

  it('FakeTokenStrategy fails with `fail` and waits while held', async () => {
    const strategy = new FakeTokenStrategy(new ManualClock(), 60_000);
    strategy.fail = new Error('endpoint down');
    await expect(strategy.generate()).rejects.toThrow('endpoint down');
    strategy.fail = undefined;
    strategy.hold();
    let settled = false;
    const pending = strategy.generate().then((info) => ((settled = true), info));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    strategy.release();
    expect((await pending).token).toBe('token-2');
  });

  it('a failing, then held FakeTokenStrategy, as docs/testing.md shows', async () => {
    const clock = new ManualClock();
    const strategy = new FakeTokenStrategy(clock, 60_000);
    const tokens = new TokenService({ clock });
    tokens.register('api', strategy);
    strategy.fail = new Error('token endpoint down');
    await expect(tokens.getToken('api')).rejects.toBeInstanceOf(TokenAcquisitionError);
    strategy.fail = undefined;
    clock.advance(TOKEN_DEFAULTS.retryMaxDelayMs);
    strategy.hold();
    const pending = tokens.getToken('api');
    strategy.release();
    expect((await pending).token).toBe('token-2');
    await tokens.onApplicationShutdown();
  });

  it('InMemoryTokenStore shares one token between two services, and an invalidation reaches both', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const store = new InMemoryTokenStore();
    const strategyA = new FakeTokenStrategy(clock, 3_600_000, 'shared');
    const strategyB = new FakeTokenStrategy(clock, 3_600_000, 'shared');
    const replicaA = new TokenService({ clock, store });
    const replicaB = new TokenService({ clock, store });
    replicaA.register('api', strategyA);
    replicaB.register('api', strategyB);

    const [a, b] = (await Promise.all([replicaA.getToken('api'), replicaB.getToken('api')])).map(
      (info) => info.token,
    );
    expect([a, b]).toEqual(['token-1', 'token-1']);
    expect(strategyA.calls + strategyB.calls).toBe(1);

    await replicaA.invalidate('api', { onlyIfToken: 'token-1' });
    expect(store.invalidations).toEqual([['shared', 'token-1']]);
    expect(store.get('shared')).toBeUndefined();
    expect(replicaB.getTokenInfo('api')).toBeUndefined();
    await replicaA.onApplicationShutdown();
    await replicaB.onApplicationShutdown();
  });
});
