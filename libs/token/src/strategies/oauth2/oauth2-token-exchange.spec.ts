import { describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError, TokenResponseError } from '../../core/token.errors.js';
import { TokenInfo } from '../../core/token-info.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../../config/oauth2-grants.options.js';
import { subjectDigest } from '../../core/oauth2-cache-key.js';
import { checkIssuedTokenType, TokenExchangeGrant } from './oauth2-token-exchange.js';
import { rejection } from '../../testing-support/rejection.js';

const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

const lookup = async (provider: string) => `tok-of-${provider}`;

describe('TokenExchangeGrant', () => {
  it.each<[string, ConstructorParameters<typeof TokenExchangeGrant>, Record<string, string>, string[]]>([
    [
      'a per-call subject token, default types',
      [{}, 'subj-1', undefined],
      {
        grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
        subject_token: 'subj-1',
        subject_token_type: ACCESS_TOKEN_TYPE,
      },
      ['subj-1'],
    ],
    [
      'the per-call value wins over the configured source',
      [{ subjectToken: { provider: 'idp' } }, 'subj-2', lookup],
      {
        grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
        subject_token: 'subj-2',
        subject_token_type: ACCESS_TOKEN_TYPE,
      },
      ['subj-2'],
    ],
    [
      "another provider's token, configured types, an actor and a requested type",
      [
        {
          subjectToken: { provider: 'idp' },
          subjectTokenType: ID_TOKEN_TYPE,
          actorToken: async () => 'actor-1',
          actorTokenType: JWT_TYPE,
          requestedTokenType: JWT_TYPE,
        },
        undefined,
        lookup,
      ],
      {
        grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
        subject_token: 'tok-of-idp',
        subject_token_type: ID_TOKEN_TYPE,
        actor_token: 'actor-1',
        actor_token_type: JWT_TYPE,
        requested_token_type: JWT_TYPE,
      },
      ['tok-of-idp', 'actor-1'],
    ],
    [
      "a callback's subject token and another provider's actor token, default actor type",
      [{ subjectToken: () => 'subj-3', actorToken: { provider: 'svc' } }, undefined, lookup],
      {
        grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
        subject_token: 'subj-3',
        subject_token_type: ACCESS_TOKEN_TYPE,
        actor_token: 'tok-of-svc',
        actor_token_type: ACCESS_TOKEN_TYPE,
      },
      ['subj-3', 'tok-of-svc'],
    ],
  ])('%s', async (_case, args, expected, secrets) => {
    const grant = await new TokenExchangeGrant(...args).parameters();
    expect(Object.fromEntries(grant.params)).toEqual(expected);
    expect(grant.secrets).toEqual(secrets);
  });

  it.each<[string, ConstructorParameters<typeof TokenExchangeGrant>, string, RegExp]>([
    ['no subject token at all', [{}, undefined, lookup], 'tokenExchange.subjectToken', /no "subjectToken"/],
    [
      "another provider's token without the module",
      [{ subjectToken: { provider: 'idp' } }, undefined, undefined],
      'tokenExchange.subjectToken',
      /"subjectToken.provider" needs the token module/,
    ],
    [
      'a callback that gives an empty string',
      [{ subjectToken: () => '' }, undefined, lookup],
      'tokenExchange.subjectToken',
      /"subjectToken" gave no token/,
    ],
    [
      'a callback that gives no string',
      [{ subjectToken: (() => 42) as unknown as () => string }, undefined, lookup],
      'tokenExchange.subjectToken',
      /"subjectToken" gave no token/,
    ],
    [
      'an actor lookup without the module',
      [{ actorToken: { provider: 'svc' } }, 'subj-4', undefined],
      'tokenExchange.actorToken',
      /"actorToken.provider" needs the token module/,
    ],
    [
      'an actor callback that gives nothing',
      [{ actorToken: async () => '' }, 'subj-5', lookup],
      'tokenExchange.actorToken',
      /"actorToken" gave no token/,
    ],
  ])('%s: a typed error naming the field', async (_case, args, field, message) => {
    const error = await rejection(new TokenExchangeGrant(...args).parameters());
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toMatch(message);
  });
});

describe('subjectDigest', () => {
  it('is a short digest, never the token, and differs per subject', () => {
    expect(subjectDigest(undefined)).toBeUndefined();
    const digest = subjectDigest('subj-6')!;
    expect(digest).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(digest).not.toContain('subj-6');
    expect(subjectDigest('subj-6')).toBe(digest);
    expect(subjectDigest('subj-7')).not.toBe(digest);
  });
});

describe('checkIssuedTokenType', () => {
  const info = (extra: Record<string, unknown>) => new TokenInfo({ token: 'at', expiresAt: 1, extra });

  it.each<[Record<string, unknown>, boolean]>([
    [{ issued_token_type: ACCESS_TOKEN_TYPE }, true],
    [{ issued_token_type: '' }, false],
    [{ issued_token_type: 7 }, false],
    [{}, false],
  ])('%j → accepted %s', (extra, accepted) => {
    const check = () => checkIssuedTokenType(info(extra));
    if (accepted) expect(check).not.toThrow();
    else expect(check).toThrow(TokenResponseError);
  });
});
