import { CompactEncrypt, compactDecrypt } from 'jose';
import { TokenInfo, type TokenInfoInit } from '../core/token-info.js';
import { TokenError } from '../core/token.errors.js';
import { decodeEncryptionKey, type TokenEncryptionKey } from '../config/redis-store.options.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

import { inspect } from 'node:util';

/** Format version of the encrypted payload, so a later format can be told apart. */
const PAYLOAD_VERSION = 1;

/**
 * A stored value that cannot be turned back into a token: unknown key id, wrong key, tampered, not a
 * JWE at all, or a payload that holds no well-formed token. The message names the reason, never the
 * value, the ciphertext or a key.
 *
 * @publicApi
 */
export class UndecryptableTokenError extends TokenError {
  readonly code = 'TOKEN_UNDECRYPTABLE';

  constructor(reason: string) {
    super(reason);
  }
}

/**
 * Encrypts tokens for storage outside the process: compact JWE, `alg: dir`, `enc: A256GCM`, with the
 * key id in the protected header. The first key not marked `decryptOnly` encrypts; every key decrypts,
 * so keys rotate without losing a shared entry: the new key deployed as `decryptOnly` everywhere, then
 * made the first, then the old one dropped once its entries have expired. The entry's cache key is
 * sealed inside, so an entry copied under another key does not decrypt to a token there. The key bytes
 * live in `#private` fields: `util.inspect` and `JSON.stringify` show key ids only.
 *
 * @publicApi
 */
export class TokenEncryption {
  readonly #current: { kid: string; key: Uint8Array };
  readonly #keys = new Map<string, Uint8Array>();

  constructor(keys: readonly TokenEncryptionKey[]) {
    if (keys.length === 0) throw new TypeError('"encryptionKeys" must list at least one key');
    for (const [index, { kid, key }] of keys.entries()) {
      const bytes = decodeEncryptionKey(key);
      if (bytes === undefined) {
        throw new TypeError(`"encryptionKeys.${index}.key" must be 32 bytes, base64 or base64url encoded`);
      }
      if (this.#keys.has(kid)) throw new TypeError(`"encryptionKeys.${index}.kid" must be unique`);
      this.#keys.set(kid, bytes);
    }
    const primary = keys.find((key) => key.decryptOnly !== true);
    if (primary === undefined)
      throw new TypeError('"encryptionKeys" needs one key that is not "decryptOnly"');
    this.#current = { kid: primary.kid, key: this.#keys.get(primary.kid)! };
  }

  /** Id of the key new entries are encrypted with. */
  get currentKid(): string {
    return this.#current.kid;
  }

  [inspect.custom](): string {
    return `TokenEncryption ${JSON.stringify(this.toJSON())}`;
  }

  toJSON(): Record<string, unknown> {
    return { currentKid: this.#current.kid, kids: [...this.#keys.keys()] };
  }

  /**
   * `generation`, when given, is sealed in with the token: the store's id for this write of
   * `cacheKey`, so the entry's bytes written back after an invalidation or a newer token no longer
   * decrypt to a token (see {@link decrypt}).
   */
  async encrypt(cacheKey: string, info: TokenInfoInit, generation?: string): Promise<string> {
    const payload = JSON.stringify({ v: PAYLOAD_VERSION, key: cacheKey, g: generation, info });
    return new CompactEncrypt(encoder.encode(payload))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: this.#current.kid })
      .encrypt(this.#current.key);
  }

  /**
   * The token sealed in `jwe` for `cacheKey` (and, when given, for `generation`: an entry sealed for
   * another one was replaced or invalidated since); throws {@link UndecryptableTokenError} otherwise.
   */
  async decrypt(cacheKey: string, jwe: string, generation?: string): Promise<TokenInfo> {
    let plaintext: Uint8Array;
    try {
      const result = await compactDecrypt(
        jwe,
        (header) => {
          const key = typeof header.kid === 'string' ? this.#keys.get(header.kid) : undefined;
          if (key === undefined) throw new UndecryptableTokenError("no key with the entry's key id");
          return key;
        },
        { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] },
      );
      plaintext = result.plaintext;
    } catch (error) {
      if (error instanceof UndecryptableTokenError) throw error;
      throw new UndecryptableTokenError(
        `decryption failed (${(error as { code?: string }).code ?? 'invalid'})`,
      );
    }
    let payload: { v?: unknown; key?: unknown; g?: unknown; info?: unknown };
    try {
      payload = JSON.parse(decoder.decode(plaintext)) ?? {};
    } catch {
      throw new UndecryptableTokenError('payload is not JSON');
    }
    if (payload.v !== PAYLOAD_VERSION) throw new UndecryptableTokenError('unknown payload version');
    if (payload.key !== cacheKey) throw new UndecryptableTokenError('entry belongs to another cache key');
    if (generation !== undefined && (typeof payload.g !== 'string' || payload.g !== generation)) {
      throw new UndecryptableTokenError('entry was replaced or invalidated since it was written');
    }
    if (!isTokenInit(payload.info)) throw new UndecryptableTokenError('payload holds no token');
    return new TokenInfo(payload.info);
  }
}

/** Whether a decrypted payload's `info` has the shape of a token, every field of its own type. */
function isTokenInit(info: unknown): info is TokenInfoInit {
  if (typeof info !== 'object' || info === null) return false;
  const { token, expiresAt, issuedAt, tokenType, provider, extra } = info as Record<string, unknown>;
  return (
    typeof token === 'string' &&
    token.length > 0 &&
    Number.isFinite(expiresAt) &&
    (issuedAt === undefined || Number.isFinite(issuedAt)) &&
    (tokenType === undefined || typeof tokenType === 'string') &&
    (provider === undefined || typeof provider === 'string') &&
    (extra === undefined || (typeof extra === 'object' && extra !== null && !Array.isArray(extra)))
  );
}
