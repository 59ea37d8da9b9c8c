import { describe, expect, it } from '@jest/globals';
import { oauth2CacheKey, oauth2StrategyCacheKey } from './oauth2-cache-key.js';

// The parts of an oauth2 cache key oauth2-cache-key.spec.ts leaves out: absent and empty lists,
// extra parameters in any order, a token URL that does not parse, and the strategy's key (grant
// parts, mTLS certificate digest). Keys are shared by the replicas of a fleet, so a release that
// derived them differently would stop sharing tokens with the one before it: two keys are pinned.

const base = { tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'svc' };
const DIGEST = /^[A-Za-z0-9_-]{16}$/;

const permutations = <T>(items: readonly T[]): T[][] =>
  items.length <= 1
    ? [[...items]]
    : items.flatMap((item, i) =>
        permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
      );

describe('oauth2CacheKey: equal configurations, equal keys', () => {
  it('no resource is the same as an empty list of resources', () => {
    expect(oauth2CacheKey({ ...base, resource: [] })).toBe(oauth2CacheKey(base));
    expect(oauth2CacheKey({ ...base, resource: undefined })).toBe(oauth2CacheKey(base));
  });

  it('one resource is the same as a list holding it, repeated or not', () => {
    const one = oauth2CacheKey({ ...base, resource: 'https://api.example.com' });
    expect(oauth2CacheKey({ ...base, resource: ['https://api.example.com'] })).toBe(one);
    expect(
      oauth2CacheKey({ ...base, resource: ['https://api.example.com', 'https://api.example.com'] }),
    ).toBe(one);
    expect(one).not.toBe(oauth2CacheKey(base));
  });

  it('no extra parameters is the same as an empty object', () => {
    expect(oauth2CacheKey({ ...base, extraParams: {} })).toBe(oauth2CacheKey(base));
  });

  it('the same extra parameters in any order give one key', () => {
    const entries: [string, string][] = [
      ['tenant', 't1'],
      ['a', '1'],
      ['zone', 'eu'],
      ['B', '2'],
      ['b', '3'],
    ];
    const keys = permutations(entries).map((order) =>
      oauth2CacheKey({ ...base, extraParams: Object.fromEntries(order) }),
    );
    expect(new Set(keys).size).toBe(1);
  });

  it('an extra parameter moved to another name changes the key', () => {
    expect(oauth2CacheKey({ ...base, extraParams: { a: '1', b: '2' } })).not.toBe(
      oauth2CacheKey({ ...base, extraParams: { a: '2', b: '1' } }),
    );
  });
});

describe('oauth2CacheKey: a token URL that does not parse', () => {
  it('gives a key naming an invalid URL, without throwing and without the URL', () => {
    const secret = 'Sx-cache-key-DISTINCTIVE-secret';
    const key = oauth2CacheKey({ ...base, tokenUrl: `not a url?api_key=${secret}` });
    const [, digest] = /^oauth2:invalid-url:svc:(.*)$/.exec(key) ?? [];
    expect(digest).toMatch(DIGEST);
    expect(key).not.toContain(secret);
    expect(key).not.toContain('api_key');
  });

  it('still tells two such URLs apart, and the same one gives the same key', () => {
    const a = oauth2CacheKey({ ...base, tokenUrl: 'auth-a/token' });
    expect(oauth2CacheKey({ ...base, tokenUrl: 'auth-a/token' })).toBe(a);
    expect(oauth2CacheKey({ ...base, tokenUrl: 'auth-b/token' })).not.toBe(a);
  });
});

describe('oauth2StrategyCacheKey', () => {
  const endpoint = 'https://auth.example.com/oauth/token';
  const certificate = '-----BEGIN CERTIFICATE-----\nMIIBcertificateA\n-----END CERTIFICATE-----\n';

  it('is oauth2CacheKey of the config at the endpoint, the parts joining the extra parameters', () => {
    expect(
      oauth2StrategyCacheKey({ clientId: 'svc', extraParams: { tenant: 't1' } }, endpoint, { grant: 'cc' }),
    ).toBe(oauth2CacheKey({ ...base, extraParams: { grant: 'cc', tenant: 't1' } }));
  });

  it('a part that changes changes the key', () => {
    expect(oauth2StrategyCacheKey({ clientId: 'svc' }, endpoint, { grant: 'a' })).not.toBe(
      oauth2StrategyCacheKey({ clientId: 'svc' }, endpoint, { grant: 'b' }),
    );
  });

  it('the same certificate gives the same key; another one, or none, another key', () => {
    const withA = oauth2StrategyCacheKey({ clientId: 'svc', mtls: { certificate } }, endpoint, {});
    expect(oauth2StrategyCacheKey({ clientId: 'svc', mtls: { certificate } }, endpoint, {})).toBe(withA);
    expect(
      oauth2StrategyCacheKey(
        { clientId: 'svc', mtls: { certificate: certificate.replace('A', 'B') } },
        endpoint,
        {},
      ),
    ).not.toBe(withA);
    expect(oauth2StrategyCacheKey({ clientId: 'svc' }, endpoint, {})).not.toBe(withA);
    expect(withA).toMatch(/^oauth2:https:\/\/auth\.example\.com\/oauth\/token:svc:[A-Za-z0-9_-]{16}$/);
    expect(withA).not.toContain('certificate');
  });

  it('is stable across releases: the replicas of a fleet share tokens by it', () => {
    expect(
      oauth2CacheKey({
        ...base,
        scope: 'write read',
        audience: 'api',
        resource: ['https://b.example.com', 'https://a.example.com'],
        extraParams: { zone: 'eu', tenant: 't1', a: '1' },
      }),
    ).toBe('oauth2:https://auth.example.com/oauth/token:svc:wsu7LRQwaeWN2aNJ');
    expect(
      oauth2StrategyCacheKey({ clientId: 'svc', scope: 'read', mtls: { certificate } }, endpoint, {
        grant: 'client_credentials',
      }),
    ).toBe('oauth2:https://auth.example.com/oauth/token:svc:3jQR-0uE_XwXTVGl');
  });
});
