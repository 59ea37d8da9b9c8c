import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import { TokenInfo, type TokenInfoInit } from '../core/token-info.js';
import { UndecryptableTokenError as ExportedUndecryptableTokenError } from '../redis.js';
import { TokenError } from '../core/token.errors.js';
import { TokenEncryption, UndecryptableTokenError } from './token-encryption.js';

const keyA = { kid: 'a', key: randomBytes(32).toString('base64') };
const keyB = { kid: 'b', key: randomBytes(32).toString('base64url') };
const info = new TokenInfo({
  token: 'secret-token-value-123',
  expiresAt: Date.now() + 60_000,
  extra: { refresh_token: 'refresh-value-456' },
});

describe('TokenEncryption', () => {
  it('writes a compact JWE (dir, A256GCM, kid) that shows neither the token nor extra values', async () => {
    const jwe = await new TokenEncryption([keyA]).encrypt('svc', info.toInit());
    expect(jwe.split('.')).toHaveLength(5);
    expect(decodeProtectedHeader(jwe)).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'a' });
    const visible = jwe + Buffer.from(jwe.split('.')[0], 'base64url').toString();
    expect(visible).not.toContain('secret-token-value-123');
    expect(visible).not.toContain('refresh-value-456');
  });

  it('round-trips every field', async () => {
    const encryption = new TokenEncryption([keyA]);
    const back = await encryption.decrypt('svc', await encryption.encrypt('svc', info.toInit()));
    expect(back.toInit()).toEqual(info.toInit());
  });

  it('rotates: the first key encrypts, every listed key decrypts', async () => {
    const written = await new TokenEncryption([keyA]).encrypt('svc', info.toInit());
    const rotated = new TokenEncryption([keyB, keyA]);
    expect((await rotated.decrypt('svc', written)).token).toBe(info.token);
    expect(decodeProtectedHeader(await rotated.encrypt('svc', info.toInit())).kid).toBe('b');
  });

  it.each([
    ['an unknown key id', async () => new TokenEncryption([keyB]).encrypt('svc', info.toInit())],
    [
      'the wrong key under a known id',
      async () => new TokenEncryption([{ kid: 'a', key: keyB.key }]).encrypt('svc', info.toInit()),
    ],
    ['another cache key', async () => new TokenEncryption([keyA]).encrypt('other', info.toInit())],
    ['a plaintext value', async () => JSON.stringify(info.toInit())],
  ])('refuses %s with an error that shows no value', async (_case, write) => {
    const error = await new TokenEncryption([keyA]).decrypt('svc', await write()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UndecryptableTokenError);
    expect(String((error as Error).message)).not.toContain(info.token);
  });

  it('throws a TokenError with a stable code, exported from the redis entry, showing no key nor ciphertext', async () => {
    expect(ExportedUndecryptableTokenError).toBe(UndecryptableTokenError);
    const written = await new TokenEncryption([{ kid: 'a', key: keyB.key }]).encrypt('svc', info.toInit());
    const error = await new TokenEncryption([keyA]).decrypt('svc', written).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toBeInstanceOf(UndecryptableTokenError);
    expect((error as TokenError).code).toBe('TOKEN_UNDECRYPTABLE');
    expect((error as Error).name).toBe('UndecryptableTokenError');
    const shown = `${(error as Error).message} ${String(error)} ${JSON.stringify(error)}`;
    for (const part of written.split('.').filter((segment) => segment.length > 0)) {
      expect(shown).not.toContain(part);
    }
    expect(shown).not.toContain(keyA.key);
    expect(shown).not.toContain(keyB.key);
  });

  it.each([
    ['a token that is no string', { token: 42, expiresAt: Date.now() + 60_000 }],
    ['an empty token', { token: '', expiresAt: Date.now() + 60_000 }],
    ['an expiry that is no number', { token: 't', expiresAt: 'soon' }],
    ['a token type that is no string', { token: 't', expiresAt: Date.now() + 60_000, tokenType: 42 }],
    ['an issue time that is no number', { token: 't', expiresAt: Date.now() + 60_000, issuedAt: 'then' }],
    ['a provider that is no string', { token: 't', expiresAt: Date.now() + 60_000, provider: {} }],
    ['extra that is no object', { token: 't', expiresAt: Date.now() + 60_000, extra: 'x' }],
  ])('refuses an entry holding %s', async (_case, garbage) => {
    const encryption = new TokenEncryption([keyA]);
    const written = await encryption.encrypt('svc', garbage as unknown as TokenInfoInit);
    await expect(encryption.decrypt('svc', written)).rejects.toBeInstanceOf(UndecryptableTokenError);
  });

  it('refuses a tampered ciphertext', async () => {
    const encryption = new TokenEncryption([keyA]);
    const parts = (await encryption.encrypt('svc', info.toInit())).split('.');
    const ciphertext = Buffer.from(parts[3], 'base64url');
    ciphertext[0] ^= 1;
    parts[3] = ciphertext.toString('base64url');
    await expect(encryption.decrypt('svc', parts.join('.'))).rejects.toBeInstanceOf(UndecryptableTokenError);
  });

  it('checks keys on construction without echoing them', () => {
    expect(() => new TokenEncryption([])).toThrow('"encryptionKeys" must list at least one key');
    expect(() => new TokenEncryption([{ kid: 'x', key: 'c2hvcnQ=' }])).toThrow(
      '"encryptionKeys.0.key" must be 32 bytes',
    );
    expect(() => new TokenEncryption([keyA, { kid: 'a', key: keyB.key }])).toThrow(
      '"encryptionKeys.1.kid" must be unique',
    );
  });
});
