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
