import { describe, expect, it } from '@jest/globals';
import { ManualClock } from '../core/clock.js';
import { TokenEndpointError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import type { TokenRequestParameters, TokenStrategy } from '../core/token-strategy.interface.js';
import { TokenService } from './token.service.js';

const T0 = 1_700_000_000_000;
const LIFETIME_MS = 20_000;
const SWEEP_EVERY_MS = 10_000;

/** A token-exchange provider: each per-call subject token is exchanged on its own, and counted. */
function exchange(clock: ManualClock) {
  const exchanges = new Map<string, number>();
  const refused = new Set<string>();
  const variant = (subject: string): TokenStrategy => ({
    cacheKey: `exchange:${subject}`,
    generate: async () => {
      exchanges.set(subject, (exchanges.get(subject) ?? 0) + 1);
      if (refused.has(subject)) throw new TokenEndpointError(400, 'invalid_grant', 'subject token expired');
      return new TokenInfo({ token: `for-${subject}`, expiresAt: clock.now() + LIFETIME_MS });
    },
  });
  const strategy: TokenStrategy = {
    cacheKey: 'exchange',
    generate: () => Promise.resolve(new TokenInfo({ token: 'own', expiresAt: clock.now() + LIFETIME_MS })),
    withParameters: (parameters: TokenRequestParameters) => variant(parameters.subjectToken ?? 'none'),
  };
  return { strategy, exchanges, refused };
}

async function sweepFor(service: TokenService, clock: ManualClock, ms: number): Promise<void> {
  for (let passed = 0; passed < ms; passed += SWEEP_EVERY_MS) {
    clock.advance(SWEEP_EVERY_MS);
    await Promise.allSettled(service.refreshDue(SWEEP_EVERY_MS));
  }
}

const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
const variantsOf = (service: TokenService) =>
  Object.keys(service.getStats().tokens).filter((name) => name.startsWith('x ('));

describe('TokenService: a user credential is used only when that user calls (issue 19 row 11)', () => {
  it('5 users call once each: the sweep exchanges no subject token in the background (1 exchange each in 40 s)', async () => {
    const clock = new ManualClock(T0);
    const service = new TokenService({ clock, random: () => 0 });
    const { strategy, exchanges } = exchange(clock);
    service.register('x', strategy);
    for (const user of users) await service.getToken('x', { subjectToken: `subject-of-${user}` });
    await sweepFor(service, clock, 40_000);
    expect([...exchanges.values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it('a variant made from a subject token is refreshed on demand when its user calls again', async () => {
    const clock = new ManualClock(T0);
    const service = new TokenService({ clock, random: () => 0 });
    const { strategy, exchanges } = exchange(clock);
    service.register('x', strategy);
    await service.getToken('x', { subjectToken: 'subject-of-alice' });
    await sweepFor(service, clock, 40_000);
    const again = await service.getToken('x', { subjectToken: 'subject-of-alice' });
    expect(again.expiresAt).toBeGreaterThan(clock.now());
    expect(exchanges.get('subject-of-alice')).toBe(2);
  });

  it('once the server refuses a subject (invalid_grant), its variant is dropped, not retried', async () => {
    const clock = new ManualClock(T0);
    const service = new TokenService({ clock, random: () => 0 });
    const { strategy, exchanges, refused } = exchange(clock);
    service.register('x', strategy);
    for (const user of users) await service.getToken('x', { subjectToken: `subject-of-${user}` });
    users.forEach((user) => refused.add(`subject-of-${user}`));
    // The token has expired; its user calls again, and the server refuses the subject.
    clock.advance(LIFETIME_MS);
    await expect(service.getToken('x', { subjectToken: 'subject-of-alice' })).rejects.toThrow(
      'invalid_grant',
    );
    await Promise.resolve();
    expect(variantsOf(service)).toHaveLength(4);
    // Ten minutes of sweeps: no subject is exchanged again without its user.
    await sweepFor(service, clock, 600_000);
    expect([...exchanges.values()]).toEqual([2, 1, 1, 1, 1]);
  });
});
