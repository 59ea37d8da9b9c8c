import { describe, expect, it } from '@jest/globals';
import type { ModuleRef } from '@nestjs/core';
import { createStrategy } from '../../module/token-strategy.factory.js';
import { systemClock } from '../../core/clock.js';
import { grantKeyParts } from './oauth2-grant-key.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

const base = {
  tokenUrl: 'https://auth.example.com/oauth/token',
  clientId: 'svc',
  clientSecret: 's3cr3t-Zq9#oauth2-options-spec',
};
// Two inline arrows: JavaScript names both `subjectToken`, from the property.
const exchange = (subject: string) => ({ ...base, tokenExchange: { subjectToken: () => subject } });

describe('token-exchange callback sources in the cache key', () => {
  it('two strategies with different subject callbacks never share a cache key', () => {
    const a = new OAuth2Strategy(exchange('alice'));
    const b = new OAuth2Strategy(exchange('bob'));
    expect(a.cacheKey).not.toBe(b.cacheKey);
  });

  it('a strategy and its variants keep one key per callback; the same callback object keys alike', () => {
    const shared = () => 'subject';
    const a = new OAuth2Strategy({ ...base, tokenExchange: { subjectToken: shared } });
    const b = new OAuth2Strategy({ ...base, tokenExchange: { subjectToken: shared } });
    expect(a.cacheKey).toBe(b.cacheKey);
    expect(a.withParameters({ scope: 'read' }).cacheKey).not.toBe(a.cacheKey);
  });

  it('module providers are keyed by provider name: stable across replicas, distinct per provider', async () => {
    const build = async (name: string, subject: string) =>
      (
        await createStrategy(
          name,
          { type: 'oauth2', ...exchange(subject) } as never,
          {} as ModuleRef,
          systemClock,
        )
      ).cacheKey;
    expect(await build('orders', 'alice')).not.toBe(await build('billing', 'bob'));
    // A replica builds the same provider with a new function object: the key must not change.
    expect(await build('orders', 'alice')).toBe(await build('orders', 'alice'));
  });
});

describe('grantKeyParts', () => {
  type Config = Parameters<typeof grantKeyParts>[0];
  const jwtBearer = (overrides: object = {}) =>
    ({ jwtBearer: { issuer: 'svc', subject: 'alice', audience: 'https://idp', ...overrides } }) as Config;
  const tokenExchange = (overrides: object = {}) =>
    ({ tokenExchange: { subjectToken: { provider: 'idp' }, ...overrides } }) as Config;

  it('a provider without a special grant adds nothing', () => {
    expect(grantKeyParts({}, undefined)).toEqual({});
  });

  it('names the grant and what it asserts or exchanges', () => {
    expect(grantKeyParts(jwtBearer(), undefined)).toEqual({
      ' grant': 'jwt-bearer',
      ' assertion': '["svc","alice","https://idp",null]',
    });
    expect(grantKeyParts(tokenExchange(), undefined)).toEqual({
      ' grant': 'token-exchange',
      ' exchange': '["{\\"provider\\":\\"idp\\"}",null,"",null,null,null]',
    });
  });

  // Each change must give another key; the same config the same key.
  it.each<[string, Config, Config, string | undefined, string | undefined]>([
    ['another jwt-bearer subject', jwtBearer(), jwtBearer({ subject: 'bob' }), undefined, undefined],
    ['another jwt-bearer issuer', jwtBearer(), jwtBearer({ issuer: 'other' }), undefined, undefined],
    [
      'another jwt-bearer audience',
      jwtBearer(),
      jwtBearer({ audience: 'https://other' }),
      undefined,
      undefined,
    ],
    ['jwt-bearer claims', jwtBearer(), jwtBearer({ claims: { role: 'admin' } }), undefined, undefined],
    [
      'another subject provider',
      tokenExchange(),
      tokenExchange({ subjectToken: { provider: 'other' } }),
      undefined,
      undefined,
    ],
    [
      'a subject token type',
      tokenExchange(),
      tokenExchange({ subjectTokenType: 'urn:x:id_token' }),
      undefined,
      undefined,
    ],
    ['an actor', tokenExchange(), tokenExchange({ actorToken: { provider: 'svc' } }), undefined, undefined],
    [
      'an actor token type',
      tokenExchange({ actorToken: { provider: 'svc' } }),
      tokenExchange({ actorToken: { provider: 'svc' }, actorTokenType: 'urn:x:jwt' }),
      undefined,
      undefined,
    ],
    [
      'a requested token type',
      tokenExchange(),
      tokenExchange({ requestedTokenType: 'urn:x:jwt' }),
      undefined,
      undefined,
    ],
    ['a per-call subject token', tokenExchange(), tokenExchange(), undefined, 'subject-1'],
    ['another per-call subject token', tokenExchange(), tokenExchange(), 'subject-1', 'subject-2'],
  ])('%s: another key', (_case, a, b, subjectA, subjectB) => {
    expect(grantKeyParts(a, subjectA)).toEqual(grantKeyParts(a, subjectA));
    expect(grantKeyParts(a, subjectA)).not.toEqual(grantKeyParts(b, subjectB));
  });

  it('a callback source: by owner when there is one, else by function object', () => {
    const first = () => 'a';
    const second = () => 'b';
    const keyOf = (subjectToken: () => string, owner?: string) =>
      grantKeyParts(tokenExchange({ subjectToken }), undefined, owner)[' exchange'];
    expect(keyOf(first, 'orders')).toContain('fn:provider:orders:subjectToken');
    expect(keyOf(first, 'orders')).toBe(keyOf(second, 'orders'));
    expect(keyOf(first)).toMatch(/fn:instance:\d+:subjectToken/);
    expect(keyOf(first)).toBe(keyOf(first));
    expect(keyOf(first)).not.toBe(keyOf(second));
    const third = () => 'c';
    const ids = [keyOf(first), keyOf(second), keyOf(third)].map((key) =>
      Number(/instance:(\d+)/.exec(key)![1]),
    );
    expect(ids[2]).toBeGreaterThan(ids[1]);
    expect(ids[1]).toBeGreaterThan(ids[0]);
  });
});
