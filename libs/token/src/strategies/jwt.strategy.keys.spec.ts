import { describe, expect, it } from '@jest/globals';
import { JwtStrategy } from './jwt.strategy.js';

const ACCESS_KEY = 'ak-public-123';
const SECRET_KEY = 'sk-very-secret-value-9f8e7d';
const keyOf = (config: Record<string, unknown> = {}): string =>
  new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, ...config }).cacheKey;

describe('JwtStrategy cache key', () => {
  it('is the access key and a 12-character base64url digest of what the token says', () => {
    expect(keyOf()).toMatch(/^jwt:ak-public-123:[A-Za-z0-9_-]{12}$/);
  });

  it('is the same for the same token: absent claims and expiry equal their defaults', () => {
    expect(keyOf()).toBe(keyOf({ claims: undefined }));
    expect(keyOf()).toBe(keyOf({ claims: {} }));
    expect(keyOf({ claims: { a: 1 } })).toBe(keyOf({ claims: { a: 1 } }));
    // Not part of the token: the signing secret never enters the key.
    expect(keyOf()).toBe(new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: 'another-secret' }).cacheKey);
  });

  it('differs when the claims, the lifetime or the algorithm differ', () => {
    expect(keyOf({ claims: { a: 1 } })).not.toBe(keyOf({ claims: { a: 2 } }));
    expect(keyOf({ claims: { a: 1 } })).not.toBe(keyOf());
    expect(keyOf({ expiresInSeconds: 60 })).not.toBe(keyOf({ expiresInSeconds: 120 }));
    expect(keyOf({ expiresInSeconds: 60 })).not.toBe(keyOf());
    expect(keyOf({ algorithm: 'HS512' })).not.toBe(keyOf());
  });
});

describe('JwtStrategy token type', () => {
  it('is Bearer unless configured', async () => {
    const plain = new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    const custom = new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, tokenType: 'JWT' });
    expect((await plain.generate()).tokenType).toBe('Bearer');
    expect((await custom.generate()).tokenType).toBe('JWT');
  });
});
