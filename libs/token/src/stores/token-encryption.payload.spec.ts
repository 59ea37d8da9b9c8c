import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { CompactEncrypt, type CompactJWEHeaderParameters } from 'jose';
import type { TokenInfoInit } from '../core/token-info.js';
import { TokenEncryption, UndecryptableTokenError } from './token-encryption.js';

/**
 * What `decrypt` refuses and why: each refusal names its reason (never the value, the ciphertext or a
 * key), and only `dir` + `A256GCM` under a listed key id is accepted. The entries refused here are
 * sealed with the real key, so only the check under test stands between them and a token.
 */
const keyA = { kid: 'a', key: randomBytes(32).toString('base64') };
const keyB = { kid: 'b', key: randomBytes(32).toString('base64url') };
const bytesA = new Uint8Array(Buffer.from(keyA.key, 'base64'));
const TOKEN = 'enc-payload-token-value-0c4e';
const REFRESH = 'enc-payload-refresh-value-71ad';
const expiresAt = Date.now() + 60_000;
const HEADER: CompactJWEHeaderParameters = { alg: 'dir', enc: 'A256GCM', kid: 'a' };

/** A JWE sealed with key A's bytes, with any header and plaintext. */
function seal(plaintext: string, header: CompactJWEHeaderParameters = HEADER): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader(header).encrypt(bytesA);
}

/** A JWE holding the payload `decrypt` expects, with `changes` applied. */
function sealPayload(changes: Record<string, unknown>, header?: CompactJWEHeaderParameters): Promise<string> {
  return seal(JSON.stringify({ v: 1, key: 'svc', info: { token: TOKEN, expiresAt }, ...changes }), header);
}

/** The refusal `decrypt` throws, checked to show no token, ciphertext nor key. */
async function refusal(jwe: string, generation?: string, encryption = new TokenEncryption([keyA])) {
  const error = await encryption.decrypt('svc', jwe, generation).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UndecryptableTokenError);
  const shown = `${String(error)} ${JSON.stringify(error)} ${inspect(error)}`;
  for (const secret of [TOKEN, REFRESH, keyA.key, keyB.key, ...jwe.split('.').filter((p) => p.length > 8)]) {
    expect(shown).not.toContain(secret);
  }
  return (error as Error).message;
}

describe('TokenEncryption keys', () => {
  it('encrypts with the first key that is not decryptOnly', async () => {
    const encryption = new TokenEncryption([{ ...keyB, decryptOnly: true }, keyA]);
    expect(encryption.currentKid).toBe('a');
    const jwe = await encryption.encrypt('svc', { token: TOKEN, expiresAt });
    expect((await new TokenEncryption([keyA]).decrypt('svc', jwe)).token).toBe(TOKEN);
  });

  it('refuses a key set where every key is decryptOnly, naming the rule and no key', () => {
    const attempt = () => new TokenEncryption([{ ...keyA, decryptOnly: true }]);
    expect(attempt).toThrow(new TypeError('"encryptionKeys" needs one key that is not "decryptOnly"'));
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain(keyA.key);
    }
  });

  it('shows key ids only to inspect and JSON.stringify', () => {
    const encryption = new TokenEncryption([keyB, { ...keyA, decryptOnly: true }]);
    expect(encryption.toJSON()).toEqual({ currentKid: 'b', kids: ['b', 'a'] });
    expect(JSON.stringify(encryption)).toBe('{"currentKid":"b","kids":["b","a"]}');
    expect(inspect(encryption)).toBe('TokenEncryption {"currentKid":"b","kids":["b","a"]}');
    expect(inspect({ nested: encryption }, { depth: Infinity, showHidden: true })).not.toContain(keyA.key);
  });
});

describe('TokenEncryption.decrypt refuses, naming why', () => {
  it('an entry under a key id it does not list, or under none', async () => {
    expect(await refusal(await sealPayload({}, { ...HEADER, kid: 'gone' }))).toBe(
      "no key with the entry's key id",
    );
    expect(await refusal(await sealPayload({}, { alg: 'dir', enc: 'A256GCM' }))).toBe(
      "no key with the entry's key id",
    );
  });

  it("a tampered ciphertext or the wrong key under a known id, with jose's code", async () => {
    const parts = (await sealPayload({})).split('.');
    const ciphertext = Buffer.from(parts[3], 'base64url');
    ciphertext[0] ^= 1;
    parts[3] = ciphertext.toString('base64url');
    expect(await refusal(parts.join('.'))).toBe('decryption failed (ERR_JWE_DECRYPTION_FAILED)');
    const wrongKey = new TokenEncryption([{ kid: 'a', key: keyB.key }]);
    expect(await refusal(await sealPayload({}), undefined, wrongKey)).toBe(
      'decryption failed (ERR_JWE_DECRYPTION_FAILED)',
    );
  });

  it('a value that is no compact JWE', async () => {
    expect(await refusal(JSON.stringify({ token: TOKEN, expiresAt }))).toBe(
      'decryption failed (ERR_JWE_INVALID)',
    );
  });

  it.each<[string, CompactJWEHeaderParameters]>([
    ['another content encryption (A128CBC-HS256, also a 32-byte key)', { ...HEADER, enc: 'A128CBC-HS256' }],
    ['another key management (A256KW, the key as key-wrapping key)', { ...HEADER, alg: 'A256KW' }],
  ])('an entry sealed with %s', async (_case, header) => {
    expect(await refusal(await sealPayload({}, header))).toBe('decryption failed (ERR_JOSE_ALG_NOT_ALLOWED)');
  });

  it('a plaintext that is no JSON', async () => {
    expect(await refusal(await seal(`not json ${TOKEN}`))).toBe('payload is not JSON');
  });

  it.each([
    ['null', 'null'],
    ['no version', JSON.stringify({ key: 'svc', info: { token: TOKEN, expiresAt } })],
    ['version 2', JSON.stringify({ v: 2, key: 'svc', info: { token: TOKEN, expiresAt } })],
    ['version "1"', JSON.stringify({ v: '1', key: 'svc', info: { token: TOKEN, expiresAt } })],
  ])('a payload with %s', async (_case, plaintext) => {
    expect(await refusal(await seal(plaintext))).toBe('unknown payload version');
  });

  it('an entry sealed for another cache key', async () => {
    const jwe = await new TokenEncryption([keyA]).encrypt('other', { token: TOKEN, expiresAt });
    expect(await refusal(jwe)).toBe('entry belongs to another cache key');
  });

  it('an entry sealed for another generation, or for none when one is asked for', async () => {
    const encryption = new TokenEncryption([keyA]);
    const replaced = 'entry was replaced or invalidated since it was written';
    const g1 = await encryption.encrypt('svc', { token: TOKEN, expiresAt }, 'g1');
    expect(await refusal(g1, 'g2')).toBe(replaced);
    expect(await refusal(await encryption.encrypt('svc', { token: TOKEN, expiresAt }), 'g1')).toBe(replaced);
    expect(await refusal(await sealPayload({ g: 7 }), '7')).toBe(replaced);
    expect((await encryption.decrypt('svc', g1, 'g1')).token).toBe(TOKEN);
    expect((await encryption.decrypt('svc', g1)).token).toBe(TOKEN);
  });

  it.each<[string, unknown]>([
    ['no info', undefined],
    ['null', null],
    ['a string', TOKEN],
    ['a token that is an array', { token: [TOKEN], expiresAt }],
    ['a token that is an object with a length', { token: { length: 1 }, expiresAt }],
    ['no expiry', { token: TOKEN }],
    ['extra that is null', { token: TOKEN, expiresAt, extra: null }],
    ['extra that is an array', { token: TOKEN, expiresAt, extra: [REFRESH] }],
    ['extra that is a string', { token: TOKEN, expiresAt, extra: REFRESH }],
    ['an issue time that is null', { token: TOKEN, expiresAt, issuedAt: null }],
    ['a token type that is null', { token: TOKEN, expiresAt, tokenType: null }],
    ['a provider that is null', { token: TOKEN, expiresAt, provider: null }],
  ])('a payload whose info is %s', async (_case, info) => {
    expect(await refusal(await sealPayload({ info }))).toBe('payload holds no token');
  });
});

describe('TokenEncryption.decrypt accepts', () => {
  it('a token with only its required fields, defaulting the others', async () => {
    const before = Date.now();
    const back = await new TokenEncryption([keyA]).decrypt('svc', await sealPayload({}));
    expect(back.token).toBe(TOKEN);
    expect(back.expiresAt).toBe(expiresAt);
    expect(back.tokenType).toBe('Bearer');
    expect(back.provider).toBe('');
    expect(back.extra).toEqual({});
    expect(back.issuedAt).toBeGreaterThanOrEqual(before);
  });

  it('every optional field when present', async () => {
    const init: TokenInfoInit = {
      token: TOKEN,
      expiresAt,
      issuedAt: expiresAt - 3_600_000,
      tokenType: 'DPoP',
      provider: 'svc',
      extra: { refresh_token: REFRESH },
    };
    const encryption = new TokenEncryption([keyA]);
    const back = await encryption.decrypt('svc', await encryption.encrypt('svc', init, 'g'), 'g');
    expect(back.toInit()).toEqual(init);
  });

  it('each optional field alone', async () => {
    const encryption = new TokenEncryption([keyA]);
    for (const field of [{ issuedAt: 1 }, { tokenType: 'MAC' }, { provider: 'p' }, { extra: {} }]) {
      const back = await encryption.decrypt(
        'svc',
        await sealPayload({ info: { token: TOKEN, expiresAt, ...field } }),
      );
      expect(back.toInit()).toMatchObject(field);
    }
  });
});
