import { describe, expect, it } from '@jest/globals';
import type { ModuleRef } from '@nestjs/core';
import { createStrategy } from '../../config/token-strategy.factory.js';
import { systemClock } from '../../clock.js';
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
