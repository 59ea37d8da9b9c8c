import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeEncryptionKey, redisStoreOptionsSchema } from './redis-store.options.js';
import { schemaIssues } from '../testing-support/options-errors.js';

const key = randomBytes(32);

describe('redisStoreOptionsSchema', () => {
  it('accepts base64 and base64url keys of 32 bytes', () => {
    expect(decodeEncryptionKey(key.toString('base64'))).toEqual(new Uint8Array(key));
    expect(decodeEncryptionKey(key.toString('base64url'))).toEqual(new Uint8Array(key));
    expect(decodeEncryptionKey(randomBytes(16).toString('base64'))).toBeUndefined();
    expect(decodeEncryptionKey('not base64 at all!')).toBeUndefined();
  });

  it('requires at least one encryption key, naming the field', () => {
    const result = redisStoreOptionsSchema.safeParse({ url: 'redis://127.0.0.1:6379' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual(['encryptionKeys']);
    expect(redisStoreOptionsSchema.safeParse({ encryptionKeys: [] }).error?.issues[0].message).toBe(
      'must list at least one key',
    );
  });

  it('rejects a bad key or a repeated kid without echoing the key', () => {
    const short = 'dG9vLXNob3J0LWtleS12YWx1ZQ==';
    const bad = redisStoreOptionsSchema.safeParse({ encryptionKeys: [{ kid: 'k', key: short }] });
    expect(bad.error?.issues[0].path).toEqual(['encryptionKeys', 0, 'key']);
    expect(JSON.stringify(bad.error?.issues)).not.toContain(short);
    const entry = { kid: 'k', key: key.toString('base64') };
    const repeated = redisStoreOptionsSchema.safeParse({ encryptionKeys: [entry, entry] });
    expect(repeated.error?.issues[0].path).toEqual(['encryptionKeys', 1, 'kid']);
  });

  it('rejects unknown fields', () => {
    const result = redisStoreOptionsSchema.safeParse({
      encryptionKeys: [{ kid: 'k', key: key.toString('base64') }],
      hots: 'x',
    });
    expect(result.success).toBe(false);
  });
});

/** 32 bytes whose base64 holds both "+" and "/" (base64url: "-" and "_"). */
const urlSafeKey = Buffer.alloc(32, 0xfb);
const KEY = { kid: 'k1', key: key.toString('base64') };

const issues = (value: unknown) => schemaIssues(redisStoreOptionsSchema, value);

describe('decodeEncryptionKey', () => {
  it('reads base64url with "-" and "_" as the same bytes as base64 with "+" and "/"', () => {
    expect(urlSafeKey.toString('base64')).toMatch(/\+.*\/|\/.*\+/);
    expect(urlSafeKey.toString('base64url')).toMatch(/-.*_|_.*-/);
    expect(decodeEncryptionKey(urlSafeKey.toString('base64'))).toEqual(new Uint8Array(urlSafeKey));
    expect(decodeEncryptionKey(urlSafeKey.toString('base64url'))).toEqual(new Uint8Array(urlSafeKey));
  });

  it('ignores the whitespace around a key (a trailing newline from a file or a secret store)', () => {
    expect(decodeEncryptionKey(`  ${key.toString('base64')}\n`)).toEqual(new Uint8Array(key));
  });

  it('refuses a key with characters outside base64, even when the rest would decode to 32 bytes', () => {
    const encoded = key.toString('base64');
    expect(decodeEncryptionKey(`${encoded.slice(0, 10)} ${encoded.slice(10)}`)).toBeUndefined();
    expect(decodeEncryptionKey(`${encoded.slice(0, 10)}.${encoded.slice(10)}`)).toBeUndefined();
    expect(decodeEncryptionKey(randomBytes(33).toString('base64'))).toBeUndefined();
  });
});

describe('redisStoreOptionsSchema: one topology, keys that can encrypt, a prefix without hash tags', () => {
  const cluster = { nodes: ['10.0.0.1:6379', { host: '10.0.0.2', port: 6379 }] };
  const sentinel = { sentinels: ['10.0.0.1:26379'], name: 'main' };

  it.each<[string, Record<string, unknown>]>([
    ['a url', { url: 'redis://127.0.0.1:6379' }],
    ['a host and a port', { host: '127.0.0.1', port: 6379 }],
    [
      'a url and a host (the url wins, as with ioredis)',
      { url: 'redis://127.0.0.1:6379', host: '127.0.0.1' },
    ],
    ['a cluster', { cluster }],
    ['a sentinel', { sentinel }],
    ['no topology (the default server)', {}],
    ['a key prefix without braces', { keyPrefix: 'app-1:' }],
    [
      'a decryptOnly key beside one that encrypts',
      { encryptionKeys: [{ ...KEY, kid: 'new', decryptOnly: true }, KEY] },
    ],
    ['a key marked decryptOnly: false', { encryptionKeys: [{ ...KEY, decryptOnly: false }] }],
  ])('accepts %s', (_case, options) => {
    expect(issues({ encryptionKeys: [KEY], ...options })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'a cluster and a url',
      { cluster, url: 'redis://127.0.0.1:6379' },
      'cluster',
      'cannot be combined with "url"',
    ],
    ['a cluster and a host', { cluster, host: '127.0.0.1' }, 'cluster', 'cannot be combined with "host"'],
    ['a sentinel and a host', { sentinel, host: '127.0.0.1' }, 'sentinel', 'cannot be combined with "host"'],
    [
      'a sentinel, a url and a host',
      { sentinel, url: 'redis://127.0.0.1:6379', host: '127.0.0.1' },
      'sentinel',
      'cannot be combined with "url", "host"',
    ],
    ['a cluster and a sentinel', { cluster, sentinel }, 'cluster', 'cannot be combined with "sentinel"'],
    [
      'only decryptOnly keys',
      { encryptionKeys: [{ ...KEY, decryptOnly: true }] },
      'encryptionKeys',
      'needs one key that is not "decryptOnly" to encrypt with',
    ],
    [
      'two keys, both decryptOnly',
      {
        encryptionKeys: [
          { ...KEY, decryptOnly: true },
          { ...KEY, kid: 'k2', decryptOnly: true },
        ],
      },
      'encryptionKeys',
      'needs one key that is not "decryptOnly" to encrypt with',
    ],
    ['a key prefix with a hash tag', { keyPrefix: 'app{1}:' }, 'keyPrefix', 'must not contain "{" or "}"'],
    ['a key prefix with a closing brace', { keyPrefix: 'app}' }, 'keyPrefix', 'must not contain "{" or "}"'],
    [
      'a repeated kid',
      { encryptionKeys: [KEY, { ...KEY, kid: 'k2' }, KEY] },
      'encryptionKeys.2.kid',
      'must be unique',
    ],
  ])('refuses %s, naming the field', (_case, options, path, message) => {
    expect(issues({ encryptionKeys: [KEY], ...options })).toEqual([{ path, message, code: 'custom' }]);
  });

  it('an empty key list is one mistake, not also a list without a key to encrypt with', () => {
    expect(issues({ encryptionKeys: [] })).toEqual([
      { path: 'encryptionKeys', message: 'must list at least one key', code: 'too_small' },
    ]);
  });

  it('the message of a bad key never shows it', () => {
    const bad = `${key.toString('base64')}AAAA`;
    expect(issues({ encryptionKeys: [{ kid: 'k', key: bad }] })).toEqual([
      {
        path: 'encryptionKeys.0.key',
        message: 'must be 32 bytes, base64 or base64url encoded',
        code: 'custom',
      },
    ]);
  });
});
