import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { oauth2ProviderSchema } from './oauth2.options.js';
import { schemaIssues } from '../testing-support/options-errors.js';

const ES256_PEM = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const base = {
  type: 'oauth2',
  tokenUrl: 'https://auth.example.com/token',
  clientId: 'svc',
  clientSecret: 's3cr3t-Zq9#oauth2-options-spec',
} as const;

const issues = (value: unknown) => schemaIssues(oauth2ProviderSchema, value);

const custom = (path: string, message: string) => ({ path, message, code: 'custom' });

describe('the grant options of an oauth2 provider', () => {
  it.each<[string, Record<string, unknown>]>([
    [
      'jwtBearer with an ES256 key and algorithm',
      { jwtBearer: { privateKey: ES256_PEM, algorithm: 'ES256' } },
    ],
    ['tokenExchange with a provider source', { tokenExchange: { subjectToken: { provider: 'frontend' } } }],
    ['tokenExchange with a function source', { tokenExchange: { subjectToken: () => 'subject' } }],
    [
      'tokenExchange with an actor token and its type',
      {
        tokenExchange: {
          subjectToken: { provider: 'frontend' },
          actorToken: () => 'actor',
          actorTokenType: 'urn:ietf:params:oauth:token-type:jwt',
        },
      },
    ],
  ])('accepts %s', (_case, grant) => {
    expect(issues({ ...base, ...grant })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, ReturnType<typeof custom>[]]>([
    [
      'both grants',
      {
        jwtBearer: { privateKey: ES256_PEM, algorithm: 'ES256' },
        tokenExchange: { subjectToken: { provider: 'frontend' } },
      },
      [custom('tokenExchange', 'cannot be combined with "jwtBearer": a provider uses one grant')],
    ],
    [
      'jwtBearer with an EC key and the default RS256',
      { jwtBearer: { privateKey: ES256_PEM } },
      [custom('jwtBearer.privateKey', 'must be an RSA key of at least 2048 bits for RS256')],
    ],
    [
      'jwtBearer with a public JWK',
      { jwtBearer: { privateKey: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }, algorithm: 'ES256' } },
      [custom('jwtBearer.privateKey', 'must be a private JWK (with "d")')],
    ],
    [
      'an actor token type without an actor token',
      { tokenExchange: { subjectToken: { provider: 'frontend' }, actorTokenType: 'urn:x' } },
      [custom('tokenExchange.actorTokenType', 'needs "actorToken"')],
    ],
  ])('refuses %s', (_case, grant, expected) => {
    expect(issues({ ...base, ...grant })).toEqual(expected);
  });

  it.each<[string, unknown]>([
    ['a string', 'a-subject-token'],
    ['a number', 42],
    ['an object without provider', { name: 'frontend' }],
  ])('a token source that is %s is neither a provider nor a function', (_case, source) => {
    expect(issues({ ...base, tokenExchange: { subjectToken: source } })).toEqual([
      {
        path: 'tokenExchange.subjectToken',
        message: 'must be { provider: "<name>" } or a function returning the token',
        code: 'invalid_union',
      },
    ]);
  });
});
