import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TokenModule } from '../module/token.module.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { rejection } from '../testing-support/rejection.js';
import { checkTokenExchangeSources } from './token-exchange-sources.check.js';

const exchanging = (sources: { subjectToken?: unknown; actorToken?: unknown }) => ({
  type: 'oauth2' as const,
  tokenUrl: 'https://auth.example.com/token',
  clientId: 'svc',
  clientSecret: 'client-secret-zz-9191',
  tokenExchange: sources,
});
const plain = { type: 'oauth2' as const, tokenUrl: 'https://auth.example.com/token', clientId: 'svc' };

const start = (providers: Record<string, unknown>) =>
  Test.createTestingModule({
    imports: [TokenModule.forRoot({ refresh: { enabled: false }, providers } as never)],
  }).compile();

describe('tokenExchange { provider } sources are checked at start-up', () => {
  it.each([
    ['an unknown provider', { a: exchanging({ subjectToken: { provider: 'nope' } }) }, 'a', 'subjectToken'],
    ['itself', { a: exchanging({ subjectToken: { provider: 'a' } }) }, 'a', 'subjectToken'],
    [
      'a cycle a → b → a',
      {
        a: exchanging({ subjectToken: { provider: 'b' } }),
        b: exchanging({ subjectToken: { provider: 'a' } }),
      },
      'a',
      'subjectToken',
    ],
    [
      'a cycle through an actor token',
      {
        a: exchanging({ subjectToken: () => 'subject', actorToken: { provider: 'b' } }),
        b: exchanging({ subjectToken: { provider: 'a' } }),
      },
      'a',
      'actorToken',
    ],
  ])('%s is refused naming the provider and the field', async (_label, providers, provider, field) => {
    const error = await rejection(start(providers));
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ provider, field: `tokenExchange.${field}` });
    expect((error as Error).message).toContain(`token provider "${provider}"`);
  });

  it('a chain without a cycle starts', async () => {
    const app = await start({
      frontend: { ...plain, clientSecret: 'client-secret-zz-9191' },
      a: exchanging({ subjectToken: { provider: 'frontend' } }),
      b: exchanging({ subjectToken: { provider: 'a' }, actorToken: { provider: 'frontend' } }),
    });
    await app.close();
  });
});

describe('checkTokenExchangeSources', () => {
  const via = (subjectToken?: unknown, actorToken?: unknown) => ({
    tokenExchange: { subjectToken, actorToken },
  });

  function thrown(providers: Record<string, unknown>): InvalidTokenOptionsError {
    try {
      checkTokenExchangeSources(providers);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      return error as InvalidTokenOptionsError;
    }
    throw new Error('expected an InvalidTokenOptionsError');
  }

  it.each<[string, Record<string, unknown>]>([
    ['providers without tokenExchange', { a: {}, b: { type: 'jwt' } }],
    ['sources that are functions or unset', { a: via(() => 'subject'), b: via(undefined, () => 'actor') }],
    ['a null source (left to the schema)', { a: via(null, null) }],
    ['a chain', { a: via({ provider: 'b' }), b: via({ provider: 'c' }, { provider: 'c' }), c: {} }],
    ['two providers on the same source', { a: via({ provider: 'c' }), b: via({ provider: 'c' }), c: {} }],
  ])('accepts %s', (_case, providers) => {
    expect(() => checkTokenExchangeSources(providers)).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string, string, string]>([
    [
      'an unknown subject provider',
      { a: via({ provider: 'nope' }) },
      'token provider "a": "tokenExchange.subjectToken" names "nope", which is not a configured provider',
      'a',
      'tokenExchange.subjectToken',
    ],
    [
      'an unknown actor provider',
      { a: via(() => 's', { provider: 'nope' }) },
      'token provider "a": "tokenExchange.actorToken" names "nope", which is not a configured provider',
      'a',
      'tokenExchange.actorToken',
    ],
    [
      'a provider on itself',
      { a: via({ provider: 'a' }) },
      'token provider "a": "tokenExchange.subjectToken" forms a cycle: "a" → "a"',
      'a',
      'tokenExchange.subjectToken',
    ],
    [
      'a cycle of three',
      { a: via({ provider: 'b' }), b: via({ provider: 'c' }), c: via(() => 's', { provider: 'a' }) },
      'token provider "a": "tokenExchange.subjectToken" forms a cycle: "a" → "b" → "c" → "a"',
      'a',
      'tokenExchange.subjectToken',
    ],
    [
      'a cycle further down the chain, named by its first member',
      { a: via({ provider: 'b' }), b: via({ provider: 'c' }), c: via({ provider: 'b' }) },
      'token provider "b": "tokenExchange.subjectToken" forms a cycle: "b" → "c" → "b"',
      'b',
      'tokenExchange.subjectToken',
    ],
  ])('refuses %s', (_case, providers, message, provider, field) => {
    const error = thrown(providers);
    expect(error.message).toBe(message);
    expect(error.provider).toBe(provider);
    expect(error.field).toBe(field);
  });
});
