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

/** Every issue of a parse, with its code: the cross-field rules all add `custom` issues. */
function fullIssues(value: unknown) {
  const result = oauth2ProviderSchema.safeParse(value);
  return result.success
    ? []
    : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code }));
}

const MTLS = {
  certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
  privateKey: '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----',
};
const ED25519_PEM = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const ISSUER = 'https://auth.example.com';
const { tokenUrl: _tokenUrl, ...withoutTokenUrl } = base;
const custom = (path: string, message: string) => ({ path, message, code: 'custom' });

describe('oauth2ProviderSchema cross-field rules, in the words the user reads', () => {
  it.each<[string, Record<string, unknown>]>([
    ['an issuer instead of a tokenUrl', { ...withoutTokenUrl, issuer: ISSUER }],
    [
      'an issuer with discovery options',
      { ...withoutTokenUrl, issuer: ISSUER, discovery: { ttlMs: 60_000 } },
    ],
    ['mtls with an https tokenUrl', { ...base, mtls: MTLS }],
    ['mtls with an issuer', { ...withoutTokenUrl, issuer: ISSUER, mtls: MTLS }],
    [
      'tls_client_auth with mtls and no secret',
      {
        ...withoutTokenUrl,
        tokenUrl: base.tokenUrl,
        clientSecret: undefined,
        clientAuth: 'tls_client_auth',
        mtls: MTLS,
      },
    ],
    [
      'self_signed_tls_client_auth with mtls',
      { ...base, clientSecret: undefined, clientAuth: 'self_signed_tls_client_auth', mtls: MTLS },
    ],
    ['client_secret_jwt with its default algorithm', { ...base, clientAuth: 'client_secret_jwt' }],
    ['client_secret_jwt with HS384', { ...base, clientAuth: 'client_secret_jwt', signingAlgorithm: 'HS384' }],
    [
      'private_key_jwt with an EC key and ES256',
      {
        ...base,
        clientSecret: undefined,
        clientAuth: 'private_key_jwt',
        privateKey: ES256_PEM,
        signingAlgorithm: 'ES256',
      },
    ],
    [
      'a valid tenant, scope, audience and resource',
      {
        ...base,
        tenant: 'acme',
        scope: 'read write',
        audience: 'https://api.example.com',
        resource: 'https://api.example.com',
      },
    ],
    ['extra params the strategy does not set', { ...base, extraParams: { prompt: 'none' } }],
  ])('accepts %s', (_case, value) => {
    expect(fullIssues(value)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, ReturnType<typeof custom>[]]>([
    [
      'neither tokenUrl nor issuer',
      withoutTokenUrl,
      [custom('tokenUrl', 'exactly one of "tokenUrl" and "issuer" is required')],
    ],
    [
      'both tokenUrl and issuer',
      { ...base, issuer: ISSUER },
      [custom('tokenUrl', 'exactly one of "tokenUrl" and "issuer" is required')],
    ],
    [
      'an issuer over plain http to a remote host',
      { ...withoutTokenUrl, issuer: 'http://auth.example.com' },
      [
        custom(
          'issuer',
          'must use https (plain http is allowed only for loopback hosts or with "allowInsecureHttp: true")',
        ),
      ],
    ],
    [
      'credentials in the tokenUrl',
      { ...base, tokenUrl: 'https://svc:pw@auth.example.com/token' },
      [custom('tokenUrl', 'must not contain credentials (use clientId/clientSecret)')],
    ],
    [
      'mtls with a loopback http tokenUrl',
      { ...base, tokenUrl: 'http://127.0.0.1:8080/token', mtls: MTLS },
      [custom('tokenUrl', 'must use https with "mtls": the client certificate is presented over TLS')],
    ],
    [
      'mtls with an http tokenUrl whose path mentions https:',
      { ...base, tokenUrl: 'http://localhost/proxy/https://auth', mtls: MTLS },
      [custom('tokenUrl', 'must use https with "mtls": the client certificate is presented over TLS')],
    ],
    [
      'discovery without an issuer',
      { ...base, discovery: { ttlMs: 1000 } },
      [custom('discovery', 'needs "issuer"')],
    ],
    [
      'a tenant on an issuer provider (its metadata names one endpoint)',
      { ...withoutTokenUrl, issuer: ISSUER, tenant: 'acme' },
      [custom('tenant', 'needs a "tokenUrl" with a {tenant} placeholder, not "issuer"')],
    ],
    [
      'a tenant of two path segments',
      { ...base, tenant: 'a/b' },
      [
        custom(
          'tenant',
          'must be one path segment of 1-128 letters, digits, "-", "_", "." or "~" (not "." or "..")',
        ),
      ],
    ],
    [
      'a scope with a quote',
      { ...base, scope: 'read "all"' },
      [
        custom(
          'scope',
          'must be space-separated scope tokens of printable ASCII without `"` or `\\` (RFC 6749 §3.3)',
        ),
      ],
    ],
    [
      'an audience that splits a line',
      { ...base, audience: 'api\r\nX-Injected: 1' },
      [custom('audience', 'must not contain control characters (CR, LF…)')],
    ],
    [
      'a resource that splits a line',
      { ...base, resource: ['https://a.example', 'b\n'] },
      [custom('resource', 'must not contain control characters (CR, LF…)')],
    ],
    [
      'client_secret_jwt with an RSA algorithm',
      { ...base, clientAuth: 'client_secret_jwt', signingAlgorithm: 'RS256' },
      [custom('signingAlgorithm', 'must be HS256, HS384 or HS512 for client_secret_jwt')],
    ],
    [
      'an HMAC algorithm with the default clientAuth',
      { ...base, signingAlgorithm: 'HS256' },
      [
        custom(
          'signingAlgorithm',
          "HS256 signs client_secret_jwt assertions only (clientAuth: 'client_secret_jwt')",
        ),
      ],
    ],
    [
      'an HMAC algorithm with private_key_jwt',
      { ...base, clientAuth: 'private_key_jwt', privateKey: ED25519_PEM, signingAlgorithm: 'HS512' },
      [
        custom(
          'signingAlgorithm',
          "HS512 signs client_secret_jwt assertions only (clientAuth: 'client_secret_jwt')",
        ),
      ],
    ],
    [
      'private_key_jwt without a key',
      { ...base, clientAuth: 'private_key_jwt' },
      [custom('privateKey', 'is required for private_key_jwt')],
    ],
    [
      'private_key_jwt with an EC key and the default RS256',
      { ...base, clientAuth: 'private_key_jwt', privateKey: ES256_PEM },
      [custom('privateKey', 'must be an RSA key of at least 2048 bits for RS256')],
    ],
    [
      'tls_client_auth without mtls',
      { ...base, clientAuth: 'tls_client_auth' },
      [custom('mtls', 'is required for tls_client_auth')],
    ],
    [
      'self_signed_tls_client_auth without mtls',
      { ...base, clientAuth: 'self_signed_tls_client_auth' },
      [custom('mtls', 'is required for self_signed_tls_client_auth')],
    ],
    [
      'the default client_secret_basic without a secret',
      { ...base, clientSecret: undefined },
      [custom('clientSecret', 'is required for client_secret_basic')],
    ],
    [
      'client_secret_jwt without a secret',
      { ...base, clientSecret: undefined, clientAuth: 'client_secret_jwt' },
      [custom('clientSecret', 'is required for client_secret_jwt')],
    ],
    [
      'extra params the strategy sets itself',
      { ...base, extraParams: { prompt: 'none', scope: 'admin', client_id: 'other' } },
      [
        custom('extraParams.scope', 'is set by the strategy and cannot be overridden'),
        custom('extraParams.client_id', 'is set by the strategy and cannot be overridden'),
      ],
    ],
  ])('refuses %s', (_case, value, expected) => {
    const found = fullIssues(value);
    expect(found).toEqual(expected);
    expect(JSON.stringify(found)).not.toContain(SECRET);
  });
});
