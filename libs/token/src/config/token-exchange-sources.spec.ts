import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TokenModule } from '../module/token.module.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { rejection } from '../testing-support/rejection.js';

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
