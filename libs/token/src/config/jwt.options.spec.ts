import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { jwtProviderSchema } from './jwt.options.js';
import { schemaIssues } from '../testing-support/options-errors.js';

const SECRET = 'kling-secret-key-do-not-leak-7781';
const ES256_PEM = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const issues = (value: unknown) => schemaIssues(jwtProviderSchema, value);

const base = { type: 'jwt', accessKey: 'ak-public' } as const;

describe('jwtProviderSchema: the key each algorithm needs', () => {
  it.each<[string, Record<string, unknown>]>([
    ['HS256 by default with a secretKey', { secretKey: SECRET }],
    ['HS512 with a secretKey', { secretKey: SECRET, algorithm: 'HS512' }],
    ['ES256 with an EC private key', { privateKey: ES256_PEM, algorithm: 'ES256' }],
    [
      'ES256 with a private key and a secretKey it does not use',
      { privateKey: ES256_PEM, algorithm: 'ES256', secretKey: SECRET },
    ],
  ])('accepts %s', (_case, options) => {
    expect(issues({ ...base, ...options })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['HS256 by default without a secretKey', {}, 'secretKey', 'is required for HS256'],
    ['HS384 without a secretKey', { algorithm: 'HS384' }, 'secretKey', 'is required for HS384'],
    ['HS256 with only a private key', { privateKey: ES256_PEM }, 'secretKey', 'is required for HS256'],
    [
      'ES256 without a private key',
      { algorithm: 'ES256', secretKey: SECRET },
      'privateKey',
      'is required for ES256',
    ],
    ['RS256 without a private key', { algorithm: 'RS256' }, 'privateKey', 'is required for RS256'],
    [
      'RS256 with an EC key',
      { algorithm: 'RS256', privateKey: ES256_PEM },
      'privateKey',
      'must be an RSA key of at least 2048 bits for RS256',
    ],
  ])('refuses %s, naming the field', (_case, options, path, message) => {
    const found = issues({ ...base, ...options });
    expect(found).toEqual([{ path, message, code: 'custom' }]);
    expect(JSON.stringify(found)).not.toContain(SECRET);
  });
});
