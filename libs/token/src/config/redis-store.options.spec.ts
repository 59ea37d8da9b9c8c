import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeEncryptionKey, redisStoreOptionsSchema } from './redis-store.options.js';

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
