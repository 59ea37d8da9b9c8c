import { describe, expect, it } from '@jest/globals';
import { normalizeScopes, oauth2CacheKey } from './oauth2-cache-key.js';

const base = { tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'svc' };

describe('oauth2CacheKey', () => {
  it('is readable: strategy, endpoint without query, client id, digest', () => {
    expect(oauth2CacheKey(base)).toMatch(
      /^oauth2:https:\/\/auth\.example\.com\/oauth\/token:svc:[A-Za-z0-9_-]{16}$/,
    );
  });

  it('is the same for the same scopes in any order, form or repetition', () => {
    const keys = [
      oauth2CacheKey({ ...base, scope: 'read write' }),
      oauth2CacheKey({ ...base, scope: 'write read' }),
      oauth2CacheKey({ ...base, scope: ['write', 'read'] }),
      oauth2CacheKey({ ...base, scope: ['read write', 'read'] }),
      oauth2CacheKey({ ...base, scope: '  write\tread ' }),
    ];
    expect(new Set(keys).size).toBe(1);
  });

  it('is the same for an equivalent URL spelling', () => {
    expect(oauth2CacheKey({ ...base, tokenUrl: 'HTTPS://Auth.Example.com:443/oauth/token' })).toBe(
      oauth2CacheKey(base),
    );
  });

  it.each([
    ['scope', { scope: 'read' }, { scope: 'read write' }],
    ['no scope vs scope', {}, { scope: 'read' }],
    ['audience', { audience: 'a' }, { audience: 'b' }],
    ['resource', { resource: 'https://a' }, { resource: ['https://a', 'https://b'] }],
    ['extra params', { extraParams: { tenant: 'a' } }, { extraParams: { tenant: 'b' } }],
    ['client id', { clientId: 'svc-a' }, { clientId: 'svc-b' }],
    ['query string', { tokenUrl: `${base.tokenUrl}?tenant=a` }, { tokenUrl: `${base.tokenUrl}?tenant=b` }],
    ['endpoint', { tokenUrl: 'https://a.example.com/token' }, { tokenUrl: 'https://b.example.com/token' }],
  ])('differs when %s differs', (_label, a, b) => {
    expect(oauth2CacheKey({ ...base, ...a })).not.toBe(oauth2CacheKey({ ...base, ...b }));
  });

  it('ignores the order of resources and extra params', () => {
    expect(oauth2CacheKey({ ...base, resource: ['https://b', 'https://a'] })).toBe(
      oauth2CacheKey({ ...base, resource: ['https://a', 'https://b'] }),
    );
    expect(oauth2CacheKey({ ...base, extraParams: { b: '2', a: '1' } })).toBe(
      oauth2CacheKey({ ...base, extraParams: { a: '1', b: '2' } }),
    );
  });

  it('never holds the secret or the query string', () => {
    const secret = 'Sx-cache-key-DISTINCTIVE-secret';
    const key = oauth2CacheKey({
      ...base,
      tokenUrl: `${base.tokenUrl}?api_key=${secret}`,
      clientSecret: secret,
    } as never);
    expect(key).not.toContain(secret);
    expect(key).not.toContain('api_key');
  });
});

describe('normalizeScopes', () => {
  it('splits, de-duplicates and sorts', () => {
    expect(normalizeScopes(' b  a\nc a ')).toEqual(['a', 'b', 'c']);
    expect(normalizeScopes(['b', 'a c'])).toEqual(['a', 'b', 'c']);
    expect(normalizeScopes(undefined)).toEqual([]);
  });
});
