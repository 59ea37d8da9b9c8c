import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { nonEmptyString } from './provider-options.schema.js';

/** The PEM labels of the private keys Node reads and re-exports as PKCS#8: PKCS#1 (RSA) and SEC1 (EC). */
const CONVERTIBLE_PEM = /-----BEGIN (RSA|EC) PRIVATE KEY-----/;

/**
 * A PEM passed through an environment variable often arrives with literal `\n` (Docker, Kubernetes,
 * `.env` files): those become newlines. A PEM never holds a backslash, so nothing else can change.
 */
export function unescapePem(value: string): string {
  return value.includes('-----BEGIN') && value.includes('\\')
    ? value.replace(/\\r\\n|\\n|\\r/g, '\n')
    : value;
}

/**
 * A private-key PEM as the strategies sign with it: unescaped, and PKCS#1 / SEC1 converted to PKCS#8
 * by Node's crypto (what jose imports). A key that cannot be read is left as it is, for the
 * validation to refuse with a message that does not quote it.
 */
export function toPkcs8Pem(value: string): string {
  const pem = unescapePem(value);
  if (!CONVERTIBLE_PEM.test(pem)) return pem;
  try {
    return createPrivateKey({ key: pem, format: 'pem' }).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch {
    return pem;
  }
}

/** A PEM text field (certificate, CA, TLS key): escaped newlines turned into newlines. */
export const pemText = () => nonEmptyString().transform(unescapePem);

/**
 * A signing key field: a PEM (PKCS#8, PKCS#1 or SEC1; escaped newlines accepted), normalised to
 * PKCS#8, or a JWK object. Every private key of the configuration goes through this one schema.
 */
export const privateKeyField = (error = 'must be a PEM string or a JWK object') =>
  z.union([nonEmptyString().transform(toPkcs8Pem), z.record(z.string(), z.unknown())], { error });
