import { afterEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { ManualClock } from '../core/clock.js';
import { InvalidTokenOptionsError, TokenEndpointError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import type { TokenRequestParameters, TokenStrategy } from '../core/token-strategy.interface.js';
import { TokenService } from '../module/token.service.js';
import { LogCapture } from '../testing-support/log-capture.js';
import { flushPromises } from '../testing-support/stub-strategy.js';
import { TokenCacheEntry } from './token-cache-entry.js';
import { variantOf } from './token-variants.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

/**
 * A provider taking per-call parameters: each variant (scope, subject token…) mints its own tokens,
 * counted per variant; `failures` makes a variant's next calls throw.
 */
function perCall(clock: ManualClock, lifetimeMs = HOUR) {
  const calls = new Map<string, number>();
  const failures = new Map<string, () => Error>();
  const labelOf = (parameters?: TokenRequestParameters) =>
    parameters === undefined
      ? 'own'
      : [parameters.subjectToken, [parameters.scope ?? []].flat().join('+')].filter(Boolean).join('/');
  const strategyFor = (label: string, cacheKey: string): TokenStrategy => ({
    cacheKey,
    generate: () => {
      const n = (calls.get(label) ?? 0) + 1;
      calls.set(label, n);
      const failure = failures.get(label);
      if (failure !== undefined) return Promise.reject(failure());
      const now = clock.now();
      return Promise.resolve(
        new TokenInfo({ token: `${label}-${n}`, issuedAt: now, expiresAt: now + lifetimeMs }),
      );
    },
  });
  const strategy: TokenStrategy = {
    ...strategyFor('own', 'x'),
    withParameters: (parameters: TokenRequestParameters) =>
      strategyFor(labelOf(parameters), `x:${labelOf(parameters)}`),
  };
  return { strategy, calls, failures };
}

function setup(settings: ConstructorParameters<typeof TokenService>[0] = {}, lifetimeMs = HOUR) {
  const clock = new ManualClock(T0);
  const service = new TokenService({ clock, random: () => 0, safetyMarginMs: 300_000, ...settings });
  const provider = perCall(clock, lifetimeMs);
  service.register('x', provider.strategy);
  return { clock, service, ...provider };
}

const rowsOf = (service: TokenService) => Object.keys(service.getStats().tokens);
/**
 * An endpoint refusal `depth` causes below the error callers get (a `TokenAcquisitionError` whose
 * cause is what the strategy threw: depth 1 is thrown as is).
 */
function wrapped(error: Error, depth: number): Error {
  let outer = error;
  for (let i = 1; i < depth; i++) outer = new Error(`layer ${i}`, { cause: outer });
  return outer;
}
const refusal = () => new TokenEndpointError(400, 'invalid_grant', 'subject token expired');

describe('per-call subject tokens: a refused credential drops its variant', () => {
  it('invalid_grant drops the variant: listed no more, its next caller exchanges afresh', async () => {
    const { service, calls, failures } = setup();
    await service.getToken('x', { subjectToken: 'alice' });
    expect(rowsOf(service)).toHaveLength(2);
    failures.set('alice', refusal);
    await expect(service.refreshToken('x', { subjectToken: 'alice' })).rejects.toThrow('invalid_grant');
    await flushPromises();
    expect(rowsOf(service)).toEqual(['x']);
    failures.delete('alice');
    const again = await service.getToken('x', { subjectToken: 'alice' });
    expect(again.token).toBe('alice-3');
    expect(calls.get('alice')).toBe(3);
    // A new cell: its counters start over.
    expect(Object.values(service.getStats().tokens)[1]).toMatchObject({ refreshes: 1, failures: 0 });
  });

  it('drops exactly the refused variant, not another one of the provider', async () => {
    const { service, failures } = setup();
    await service.getToken('x', { subjectToken: 'alice' });
    await service.getToken('x', { subjectToken: 'bob' });
    const [, aliceRow, bobRow] = rowsOf(service);
    failures.set('bob', refusal);
    await expect(service.refreshToken('x', { subjectToken: 'bob' })).rejects.toThrow('invalid_grant');
    await flushPromises();
    expect(rowsOf(service)).toEqual(['x', aliceRow]);
    expect(rowsOf(service)).not.toContain(bobRow);
  });

  it('another endpoint error keeps the variant (it is retried like any failure)', async () => {
    const { service, failures } = setup();
    await service.getToken('x', { subjectToken: 'alice' });
    failures.set('alice', () => new TokenEndpointError(400, 'invalid_request', 'bad'));
    await expect(service.refreshToken('x', { subjectToken: 'alice' })).rejects.toThrow('invalid_request');
    failures.set('alice', () => new Error('network down'));
    await expect(service.refreshToken('x', { subjectToken: 'alice' })).rejects.toThrow('network down');
    await flushPromises();
    const rows = service.getStats().tokens;
    expect(Object.keys(rows)).toHaveLength(2);
    expect(Object.values(rows)[1]).toMatchObject({ failures: 2, refreshes: 1 });
  });

  it.each([
    [1, true],
    [4, true],
    [5, false],
  ])('an invalid_grant at depth %i of the cause chain: dropped %s', async (depth, dropped) => {
    const { service, failures } = setup();
    await service.getToken('x', { subjectToken: 'alice' });
    failures.set('alice', () => wrapped(refusal(), depth));
    await expect(service.refreshToken('x', { subjectToken: 'alice' })).rejects.toThrow();
    await flushPromises();
    expect(rowsOf(service)).toHaveLength(dropped ? 1 : 2);
  });

  it('a refused scope variant (no subject token) is kept: only per-call credentials are dropped', async () => {
    const { service, failures } = setup();
    await service.getToken('x', { scope: 'read' });
    failures.set('read', refusal);
    await expect(service.refreshToken('x', { scope: 'read' })).rejects.toThrow('invalid_grant');
    await flushPromises();
    expect(rowsOf(service)).toEqual(['x', 'x (scope=read)']);
  });

  it('a subject variant in its refresh window, backing off after a failure, is served', async () => {
    const { clock, service, calls, failures } = setup();
    await service.getToken('x', { subjectToken: 'alice' });
    clock.advance(HOUR - 600_000); // the refresh window
    failures.set('alice', () => new Error('down'));
    await expect(service.getToken('x', { subjectToken: 'alice' })).resolves.toMatchObject({
      token: 'alice-1',
    });
    await flushPromises();
    // Within the backoff: served, no refresh started.
    await expect(service.getToken('x', { subjectToken: 'alice' })).resolves.toMatchObject({
      token: 'alice-1',
    });
    expect(calls.get('alice')).toBe(2);
  });

  it('the sweep refreshes scope variants, never one made from a subject token', async () => {
    const { clock, service, calls } = setup();
    await service.getToken('x', { scope: 'read' });
    await service.getToken('x', { subjectToken: 'alice' });
    clock.advance(HOUR - 500_000); // inside both refresh windows
    await Promise.all(service.refreshDue(60_000));
    expect(calls.get('read')).toBe(2);
    expect(calls.get('alice')).toBe(1);
  });
});

describe('per-call variants: reuse, order, limit', () => {
  let logs: LogCapture | undefined;
  afterEach(() => logs?.restore());

  it('a variant is reused by every call with the same parameters', async () => {
    const { service, calls } = setup();
    const first = await service.getToken('x', { scope: 'read' });
    const second = await service.getToken('x', { scope: ['read'] });
    expect(second.token).toBe(first.token);
    expect(calls.get('read')).toBe(1);
    expect(service.getStats().tokens['x (scope=read)']).toMatchObject({ hits: 1, misses: 1 });
  });

  it('parameters that ask for nothing more (an empty scope) get the provider itself', async () => {
    const { service, calls } = setup();
    const own = await service.getToken('x');
    expect((await service.getToken('x', { scope: [] })).token).toBe(own.token);
    expect(calls.get('own')).toBe(1);
    expect(rowsOf(service)).toEqual(['x']);
  });

  it('past the limit the least recently used variant is dropped (a use moves it to the back)', async () => {
    const { service, calls } = setup({ maxVariantsPerProvider: 2 });
    await service.getToken('x', { scope: 'a' });
    await service.getToken('x', { scope: 'b' });
    await service.getToken('x', { scope: 'a' }); // b is now the least recently used
    await service.getToken('x', { scope: 'c' });
    expect(rowsOf(service)).toEqual(['x', 'x (scope=a)', 'x (scope=c)']);
    await service.getToken('x', { scope: 'a' });
    expect(calls.get('a')).toBe(1);
  });

  it('a dropped variant leaves the schedule: the sweep does not refresh it', async () => {
    const { clock, service, calls } = setup({ maxVariantsPerProvider: 1 });
    await service.getToken('x', { scope: 'a' });
    await service.getToken('x', { scope: 'b' }); // drops a
    clock.advance(HOUR - 500_000);
    await Promise.all(service.refreshDue(60_000));
    expect(calls.get('a')).toBe(1);
    expect(calls.get('b')).toBe(2);
  });

  it('dropping a variant that holds a valid token is logged once; an expired or empty one is not', async () => {
    logs = new LogCapture().install();
    const { clock, service, failures } = setup({ maxVariantsPerProvider: 1 }, 60_000);
    const warnings = () => logs!.lines.filter((line) => line.startsWith('warn'));
    failures.set('a', () => new Error('down'));
    await expect(service.getToken('x', { scope: 'a' })).rejects.toThrow('down');
    await service.getToken('x', { scope: 'b' }); // drops a, which holds no token
    clock.advance(60_000); // b has expired
    await service.getToken('x', { scope: 'c' }); // drops b, expired
    expect(warnings()).toEqual([]);
    await service.getToken('x', { scope: 'd' }); // drops c, valid
    expect(warnings()).toEqual([
      'warn token provider "x": more than 1 per-call variants in use; dropping the least recently used ' +
        '(raise maxVariantsPerProvider, or register a provider per tenant) TokenService',
    ]);
    await service.getToken('x', { scope: 'e' }); // drops d, valid: already said
    expect(warnings()).toHaveLength(1);
  });

  it('a provider without withParameters refuses per-call parameters, naming the field', async () => {
    const clock = new ManualClock(T0);
    const service = new TokenService({ clock });
    service.register('plain', {
      cacheKey: 'plain',
      generate: () => Promise.resolve(new TokenInfo({ token: 't', issuedAt: T0, expiresAt: T0 + HOUR })),
    });
    const error = await service.getToken('plain', { scope: 'read' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({
      message: 'token provider "plain" takes no per-call scope, audience, resource or tenant',
      provider: 'plain',
      field: 'parameters',
    });
  });

  it('variantOf without parameters is the provider itself', () => {
    const base = new TokenCacheEntry('x', perCall(new ManualClock(T0)).strategy, {}, 0);
    const limits = { maxVariants: 1, now: T0, logger: new Logger('spec'), evict: () => {} };
    expect(variantOf(base, undefined, limits)).toBe(base);
    expect(base.variants).toBeUndefined();
  });
});

describe('stats rows of variants', () => {
  it('a variant whose name a registered provider holds gets the next free "#n" row', async () => {
    const { clock, service } = setup();
    const plain: TokenStrategy = {
      cacheKey: 'plain',
      generate: () =>
        Promise.resolve(new TokenInfo({ token: 'p', issuedAt: clock.now(), expiresAt: clock.now() + HOUR })),
    };
    service.register('x (scope=a)', plain);
    service.register('x (scope=a) #2', { ...plain, cacheKey: 'plain2' });
    await service.getToken('x', { scope: 'a' });
    const tokens = service.getStats().tokens;
    expect(Object.keys(tokens)).toEqual(['x', 'x (scope=a)', 'x (scope=a) #2', 'x (scope=a) #3']);
    expect(tokens['x (scope=a)']).toMatchObject({ provider: 'x (scope=a)', cached: false });
    expect(tokens['x (scope=a) #3']).toMatchObject({ provider: 'x', cached: true, refreshes: 1 });
  });

  it('forEachTokenEntry visits every variant under its provider name', async () => {
    const { clock, service } = setup();
    await service.getToken('x');
    await service.getToken('x', { scope: 'a' });
    const seen: Array<[string, number, number]> = [];
    service.forEachTokenEntry((provider, entry, now) => seen.push([provider, entry.refreshes, now]));
    expect(seen).toEqual([
      ['x', 1, clock.now()],
      ['x', 1, clock.now()],
    ]);
  });

  it('invalidate drops the variants too (invalidate with onlyIfToken reaches a variant alone)', async () => {
    const { service, calls } = setup();
    const variant = await service.getToken('x', { scope: 'a' });
    // The provider itself holds no token: only the variant's is compared.
    await expect(service.invalidate('x', { onlyIfToken: variant.token })).resolves.toBe(true);
    expect(service.getStats().tokens['x (scope=a)'].cached).toBe(false);
    await service.getToken('x', { scope: 'a' });
    await service.getToken('x');
    await expect(service.invalidate('x')).resolves.toBe(true);
    expect(service.getStats().totalCached).toBe(0);
    await service.getToken('x', { scope: 'a' });
    expect(calls.get('a')).toBe(3);
  });
});
