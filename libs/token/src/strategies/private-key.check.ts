import { importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { InvalidTokenOptionsError } from '../token.errors.js';

/** The PEM header of an unencrypted PKCS#8 private key, the only PEM form jose imports for signing. */
export const PKCS8_PEM_HEADER = '-----BEGIN PRIVATE KEY-----';

/**
 * What is wrong with a configured private key, or undefined when it looks usable: a string must be a
 * PKCS#8 PEM, an object a private JWK (with `"d"`). The message describes the expected shape and
 * never quotes the value. A key that passes can still fail to import (e.g. a truncated PEM); the
 * strategies report that as an `InvalidTokenOptionsError` on first use.
 */
export function privateKeyProblem(
  privateKey: string | Readonly<Record<string, unknown>>,
): string | undefined {
  if (typeof privateKey === 'string') {
    return privateKey.includes(PKCS8_PEM_HEADER)
      ? undefined
      : `must be a PKCS#8 PEM ("${PKCS8_PEM_HEADER}") or a JWK object`;
  }
  return typeof privateKey.d === 'string' ? undefined : 'must be a private JWK (with "d")';
}

/**
 * Imports a PKCS#8 PEM or a private JWK for `algorithm`. A failure becomes an
 * `InvalidTokenOptionsError` on `privateKey` that never quotes the key (`subject`: `jwt`, `oauth2`).
 */
export async function importPrivateKey(
  privateKey: string | Readonly<Record<string, unknown>>,
  algorithm: string,
  subject: string,
): Promise<CryptoKey | Uint8Array> {
  try {
    return typeof privateKey === 'string'
      ? await importPKCS8(privateKey, algorithm)
      : await importJWK(privateKey as JWK, algorithm);
  } catch {
    // jose's message is safe, but a key parser's error is no place to risk quoting key material.
    throw new InvalidTokenOptionsError(
      `${subject} "privateKey" could not be imported as a ${algorithm} private key (PKCS#8 PEM or private JWK)`,
      undefined,
      'privateKey',
    );
  }
}
