import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { InvalidTokenOptionsError } from '../core/token.errors.js';

/** The PEM header of an unencrypted PKCS#8 private key, the only PEM form jose imports for signing. */
export const PKCS8_PEM_HEADER = '-----BEGIN PRIVATE KEY-----';

/** Smallest RSA modulus jose signs with (RFC 7518 §3.3). */
const MIN_RSA_BITS = 2048;

/** The key types (and EC curves) each family of algorithms signs with. */
function expectedKey(algorithm: string): { types: string[]; curve?: string; describe: string } {
  if (/^(RS|PS)\d+$/.test(algorithm)) {
    return { types: ['rsa', 'rsa-pss'], describe: `an RSA key of at least ${MIN_RSA_BITS} bits` };
  }
  const curves: Record<string, [string, string]> = {
    ES256: ['prime256v1', 'P-256'],
    ES384: ['secp384r1', 'P-384'],
    ES512: ['secp521r1', 'P-521'],
  };
  if (algorithm in curves) {
    const [curve, name] = curves[algorithm];
    return { types: ['ec'], curve, describe: `an EC key on ${name}` };
  }
  return { types: ['ed25519'], describe: 'an Ed25519 key' };
}

/** Parses the key with Node's crypto, synchronously; undefined when it cannot be read. */
function readKey(privateKey: string | Readonly<Record<string, unknown>>): KeyObject | undefined {
  try {
    return typeof privateKey === 'string'
      ? createPrivateKey({ key: privateKey, format: 'pem' })
      : createPrivateKey({ key: privateKey as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * What is wrong with a configured private key, or undefined when it is usable: a string must be a
 * PKCS#8 PEM, an object a private JWK (with `"d"`), and either must actually parse as a private key
 * of the type `algorithm` signs with. Runs when the configuration is validated, so a garbage PEM
 * body or a key of the wrong curve stops start-up. The message never quotes the value.
 */
export function privateKeyProblem(
  privateKey: string | Readonly<Record<string, unknown>>,
  algorithm = 'RS256',
): string | undefined {
  if (typeof privateKey === 'string' && !privateKey.includes(PKCS8_PEM_HEADER)) {
    return (
      `must be a PKCS#8 PEM ("${PKCS8_PEM_HEADER}"; PKCS#1 "BEGIN RSA PRIVATE KEY" and SEC1 ` +
      '"BEGIN EC PRIVATE KEY" are converted), unencrypted, or a private JWK object'
    );
  }
  if (typeof privateKey !== 'string' && typeof privateKey.d !== 'string') {
    return 'must be a private JWK (with "d")';
  }
  const key = readKey(privateKey);
  if (key === undefined || key.type !== 'private') {
    return typeof privateKey === 'string'
      ? 'could not be read as a PKCS#8 private key (the PEM body is damaged)'
      : 'could not be read as a private JWK';
  }
  const expected = expectedKey(algorithm);
  const details = key.asymmetricKeyDetails ?? {};
  const fits =
    expected.types.includes(key.asymmetricKeyType ?? '') &&
    (expected.curve === undefined || details.namedCurve === expected.curve) &&
    (!expected.types.includes('rsa') || (details.modulusLength ?? 0) >= MIN_RSA_BITS);
  return fits ? undefined : `must be ${expected.describe} for ${algorithm}`;
}

/**
 * Imports a PKCS#8 PEM or a private JWK for `algorithm`. A failure becomes an
 * `InvalidTokenOptionsError` on `privateKey` that never quotes the key (`subject`: `jwt`, `oauth2`,
 * or `token provider "name"`).
 */
export async function importPrivateKey(
  privateKey: string | Readonly<Record<string, unknown>>,
  algorithm: string,
  subject: string,
  provider?: string,
): Promise<CryptoKey | Uint8Array> {
  try {
    return typeof privateKey === 'string'
      ? await importPKCS8(privateKey, algorithm)
      : await importJWK(privateKey as JWK, algorithm);
  } catch {
    // jose's message is safe, but a key parser's error is no place to risk quoting key material.
    throw new InvalidTokenOptionsError(
      `${subject}: "privateKey" could not be imported as a ${algorithm} private key (PKCS#8 PEM or private JWK)`,
      provider,
      'privateKey',
    );
  }
}
