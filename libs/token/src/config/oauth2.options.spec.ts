import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { oauth2ProviderSchema } from './oauth2.options.js';

const ES256_PEM = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const SECRET = 's3cr3t-Zq9#oauth2-options-spec';
const base = {
  type: 'oauth2',
  tokenUrl: 'https://auth.example.com/token',
  clientId: 'svc',
  clientSecret: SECRET,
} as const;

function issues(value: unknown) {
  const result = oauth2ProviderSchema.safeParse(value);
  return result.success
    ? []
    : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('oauth2ProviderSchema', () => {
  it('accepts a minimal client_secret_basic provider and every documented option', () => {
    expect(issues(base)).toEqual([]);
    expect(
      issues({
        ...base,
        clientAuth: 'client_secret_post',
        scope: ['read', 'write'],
        audience: 'https://api.example.com',
        resource: ['https://api.example.com', 'https://files.example.com'],
        extraParams: { tenant: 'acme' },
        useRefreshToken: false,
        timeoutMs: 5000,
        maxResponseBytes: 1024,
        defaultExpiresInSeconds: 600,
        safetyMarginMs: 1000,
      }),
    ).toEqual([]);
    expect(
      issues({
        type: 'oauth2',
        tokenUrl: base.tokenUrl,
        clientId: 'svc',
        clientAuth: 'private_key_jwt',
        privateKey: ES256_PEM,
        signingAlgorithm: 'ES256',
        keyId: 'k1',
      }),
    ).toEqual([]);
  });

  it.each([
    ['missing clientId', { ...base, clientId: undefined }, 'clientId'],
    ['empty clientId', { ...base, clientId: '' }, 'clientId'],
    ['missing clientSecret for basic', { ...base, clientSecret: undefined }, 'clientSecret'],
    [
      'missing clientSecret for post',
      { ...base, clientSecret: undefined, clientAuth: 'client_secret_post' },
      'clientSecret',
    ],
    ['missing privateKey for private_key_jwt', { ...base, clientAuth: 'private_key_jwt' }, 'privateKey'],
    [
      'a privateKey that is not PKCS#8',
      { ...base, clientAuth: 'private_key_jwt', privateKey: SECRET },
      'privateKey',
    ],
    [
      'a public JWK',
      { ...base, clientAuth: 'private_key_jwt', privateKey: { kty: 'EC', crv: 'P-256', x: 'a', y: 'b' } },
      'privateKey',
    ],
    ['a non-URL tokenUrl', { ...base, tokenUrl: `not a url ${SECRET}` }, 'tokenUrl'],
    [
      'an http tokenUrl to a remote host',
      { ...base, tokenUrl: `http://auth.example.com/token?k=${SECRET}` },
      'tokenUrl',
    ],
    ['an ftp tokenUrl', { ...base, tokenUrl: 'ftp://auth.example.com/token' }, 'tokenUrl'],
    [
      'credentials in the tokenUrl',
      { ...base, tokenUrl: `https://svc:${SECRET}@auth.example.com/token` },
      'tokenUrl',
    ],
    ['an unknown clientAuth', { ...base, clientAuth: 'none' }, 'clientAuth'],
    [
      'an unknown algorithm',
      {
        ...base,
        clientAuth: 'private_key_jwt',
        privateKey: { kty: 'OKP', d: 'x' },
        signingAlgorithm: 'HS256',
      },
      'signingAlgorithm',
    ],
    ['an empty scope list', { ...base, scope: [] }, 'scope'],
    ['a non-string extra param', { ...base, extraParams: { tenant: 42 } }, 'extraParams.tenant'],
    [
      'an extra param overriding grant_type',
      { ...base, extraParams: { grant_type: 'password' } },
      'extraParams.grant_type',
    ],
    [
      'an extra param overriding client_secret',
      { ...base, extraParams: { client_secret: SECRET } },
      'extraParams.client_secret',
    ],
    ['a negative timeout', { ...base, timeoutMs: -1 }, 'timeoutMs'],
    ['an unknown key', { ...base, clientSecrett: SECRET }, ''],
  ])('rejects %s, naming the field and never echoing the value', (_label, value, field) => {
    const found = issues(value);
    expect(found.length).toBeGreaterThan(0);
    if (field) expect(found.map((i) => i.path)).toContain(field);
    for (const issue of found) expect(issue.message).not.toContain(SECRET);
    expect(JSON.stringify(found)).not.toContain(SECRET);
  });

  it.each([
    'http://127.0.0.1:8080/token',
    'http://127.9.9.9/token',
    'http://localhost/token',
    'http://LOCALHOST:3000/token',
    'http://[::1]:8080/token',
  ])('allows plain http to loopback: %s', (tokenUrl) => {
    expect(issues({ ...base, tokenUrl })).toEqual([]);
  });

  it('allows plain http to a remote host only with allowInsecureHttp', () => {
    expect(issues({ ...base, tokenUrl: 'http://auth.internal/token', allowInsecureHttp: true })).toEqual([]);
    expect(issues({ ...base, tokenUrl: 'http://auth.internal/token' })).toEqual([
      { path: 'tokenUrl', message: expect.stringContaining('must use https') },
    ]);
    expect(issues({ ...base, tokenUrl: 'http://128.0.0.1/token' })[0]?.path).toBe('tokenUrl');
    expect(issues({ ...base, tokenUrl: 'http://localhost.evil.example/token' })[0]?.path).toBe('tokenUrl');
  });

  it('does not crash on values of the wrong type', () => {
    for (const value of [
      null,
      42,
      'x',
      [],
      { ...base, extraParams: null },
      { ...base, privateKey: null, clientAuth: 'private_key_jwt' },
      { ...base, tokenUrl: 7 },
    ]) {
      expect(() => oauth2ProviderSchema.safeParse(value)).not.toThrow();
      expect(oauth2ProviderSchema.safeParse(value).success).toBe(false);
    }
  });
});
