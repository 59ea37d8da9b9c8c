import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import type { Clock } from '../../core/clock.js';
import { importPrivateKey } from '../../config/private-key.check.js';
import type { ClientAssertionAlgorithm, ClientSecretJwtAlgorithm } from '../../config/oauth2-algorithms.js';

/** RFC 7523 §2.2 value of `client_assertion_type`. */
export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Lifetime of a client assertion. Short, because an assertion caught in transit is as good as the
 * private key until it expires; a minute still covers a slow endpoint and modest clock skew.
 */
export const CLIENT_ASSERTION_LIFETIME_SECONDS = 60;

export interface ClientAssertionOptions {
  clientId: string;
  /** `aud`: the token endpoint URL. */
  audience: string;
  /** PEM (PKCS#8) or JWK private key, for `private_key_jwt`. */
  privateKey?: string | Record<string, unknown>;
  /** The client secret, the HMAC key of `client_secret_jwt` (HS256/384/512). */
  clientSecret?: string;
  /** Default `RS256` (`HS256` with `clientSecret`). */
  algorithm?: ClientAssertionAlgorithm | ClientSecretJwtAlgorithm;
  /** Goes into the `kid` header, so the server can pick the key. */
  keyId?: string;
}

/**
 * Signs RFC 7523 client assertions: `iss` = `sub` = client id, `aud` = token endpoint, a random `jti`,
 * `iat` = now, `exp` = now + 60 s. The key is imported once, on first use. The key, in any form,
 * lives in `#private` fields, out of reach of `util.inspect` and `JSON.stringify`.
 */
export class ClientAssertionSigner {
  readonly #options: ClientAssertionOptions;
  readonly #clock: Clock;
  readonly #algorithm: ClientAssertionAlgorithm | ClientSecretJwtAlgorithm;
  #key?: Promise<CryptoKey | Uint8Array>;

  constructor(options: ClientAssertionOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
    this.#algorithm = options.algorithm ?? (options.clientSecret !== undefined ? 'HS256' : 'RS256');
  }

  async sign(): Promise<string> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({
        alg: this.#algorithm,
        typ: 'JWT',
        ...(this.#options.keyId ? { kid: this.#options.keyId } : {}),
      })
      .setIssuer(this.#options.clientId)
      .setSubject(this.#options.clientId)
      .setAudience(this.#options.audience)
      .setJti(randomUUID())
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + CLIENT_ASSERTION_LIFETIME_SECONDS)
      .sign(await this.#signingKey());
  }

  #signingKey(): Promise<CryptoKey | Uint8Array> {
    this.#key ??= this.#importKey().catch((error: unknown) => {
      this.#key = undefined;
      throw error;
    });
    return this.#key;
  }

  async #importKey(): Promise<CryptoKey | Uint8Array> {
    const { privateKey, clientSecret } = this.#options;
    // client_secret_jwt: the secret's UTF-8 bytes are the HMAC key (RFC 7518 §3.2, as servers read it).
    if (clientSecret !== undefined) return new TextEncoder().encode(clientSecret);
    return importPrivateKey(privateKey!, this.#algorithm, 'oauth2');
  }
}
