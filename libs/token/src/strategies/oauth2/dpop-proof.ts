import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { SignJWT } from 'jose';
import type { Clock } from '../../core/clock.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { DpopNonces } from './dpop-nonces.js';
import type { DpopAlgorithm, DpopConfig } from '../../config/dpop.options.js';

/** The smallest RSA modulus jose signs with (RFC 7518 §3.3). */
const MIN_RSA_BITS = 2048;

/** RFC 7638 required members per key type, in the order the thumbprint hashes them. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

/**
 * Signs DPoP proofs (RFC 9449 §4) with one key pair: header `typ: dpop+jwt`, the public `jwk`;
 * claims `jti` (new each time), `htm`, `htu` (without query and fragment), `iat`, `ath` (for a
 * resource request) and `nonce` (the last one the origin sent). The private key lives in a
 * `#private` field; the public key's thumbprint (`jkt`) names it in cache keys.
 */
export class DpopProofSigner {
  readonly algorithm: DpopAlgorithm;
  /** RFC 7638 thumbprint of the public key, base64url. */
  readonly thumbprint: string;
  readonly nonces: DpopNonces;
  readonly #key: KeyObject;
  readonly #jwk: Record<string, string>;
  readonly #clock: Clock;

  constructor(config: DpopConfig, clock: Clock) {
    const options = config === true ? {} : config;
    this.#clock = clock;
    this.nonces = new DpopNonces(options.maxNonces);
    this.#key =
      options.privateKey === undefined
        ? generate(options.algorithm ?? 'ES256')
        : importKey(options.privateKey);
    this.algorithm = options.algorithm ?? algorithmOf(this.#key);
    // Before the JWK export, which throws a bare TypeError for a key type it cannot write (DSA, RSA-PSS).
    if (!fits(this.#key, this.algorithm)) {
      throw new InvalidTokenOptionsError(
        `oauth2 "dpop.privateKey" cannot sign ${this.algorithm}`,
        undefined,
        'dpop.privateKey',
      );
    }
    const jwk = createPublicKey(this.#key).export({ format: 'jwk' }) as Record<string, string>;
    // fits() admits EC P-256, Ed25519 and RSA keys only, whose `kty` the table holds.
    const members = THUMBPRINT_MEMBERS[jwk.kty];
    this.#jwk = Object.fromEntries(members.map((name) => [name, jwk[name]]));
    // RFC 7638 §3: the required members in lexicographic order, which `members` already is.
    this.thumbprint = createHash('sha256').update(JSON.stringify(this.#jwk)).digest('base64url');
  }

  /** A proof for one request; `accessToken` adds `ath` (resource requests, §4.2). */
  proof(method: string, url: URL, accessToken?: string): Promise<string> {
    const nonce = this.nonces.get(url.origin);
    return new SignJWT({
      htm: method.toUpperCase(),
      htu: `${url.origin}${url.pathname}`,
      ...(accessToken === undefined
        ? {}
        : { ath: createHash('sha256').update(accessToken).digest('base64url') }),
      ...(nonce === undefined ? {} : { nonce }),
    })
      .setProtectedHeader({ alg: this.algorithm, typ: 'dpop+jwt', jwk: this.#jwk })
      .setJti(randomUUID())
      .setIssuedAt(Math.floor(this.#clock.now() / 1000))
      .sign(this.#key);
  }
}

function generate(algorithm: DpopAlgorithm): KeyObject {
  if (algorithm === 'EdDSA') return generateKeyPairSync('ed25519').privateKey;
  if (algorithm === 'ES256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

function importKey(privateKey: string | Record<string, unknown>): KeyObject {
  try {
    return typeof privateKey === 'string'
      ? createPrivateKey(privateKey)
      : createPrivateKey({ key: privateKey as never, format: 'jwk' });
  } catch {
    // The parser's message may quote the key; name the field only.
    throw new InvalidTokenOptionsError(
      'oauth2 "dpop.privateKey" is not a usable private key',
      undefined,
      'dpop.privateKey',
    );
  }
}

function algorithmOf(key: KeyObject): DpopAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  return 'ES256';
}

function fits(key: KeyObject, algorithm: DpopAlgorithm): boolean {
  switch (algorithm) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519';
    default:
      // jose signs RS256 and PS256 with 2048 bits or more only.
      return (
        key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
      );
  }
}
