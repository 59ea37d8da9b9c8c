import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import type { Clock } from '../../core/clock.js';
import { importPrivateKey } from '../../config/private-key.check.js';
import { JWT_BEARER_GRANT_TYPE, type JwtBearerConfig } from '../../config/oauth2-grants.options.js';

/** The form parameters of one grant request and the secrets in them (for redaction). */
export interface GrantParameters {
  params: URLSearchParams;
  secrets: string[];
}

/**
 * Builds JWT-bearer grant requests (RFC 7523 §2.1): each call signs a new assertion with a fresh
 * `jti`, so a retried request is never refused as a replay (§3 item 7). The key is imported once
 * and lives in a `#private` field.
 */
export class JwtBearerGrant {
  readonly #config: JwtBearerConfig;
  readonly #clientId: string;
  readonly #clock: Clock;
  #key?: Promise<CryptoKey | Uint8Array>;

  constructor(config: JwtBearerConfig, clientId: string, clock: Clock) {
    this.#config = config;
    this.#clientId = clientId;
    this.#clock = clock;
  }

  /** `audience` is the `aud` used unless the config names one: the issuer or the token endpoint. */
  async parameters(audience: string): Promise<GrantParameters> {
    const config = this.#config;
    const algorithm = config.algorithm ?? 'RS256';
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    this.#key ??= importPrivateKey(config.privateKey, algorithm, 'oauth2 jwtBearer').catch(
      (error: unknown) => {
        this.#key = undefined;
        throw error;
      },
    );
    const assertion = await new SignJWT({ ...config.claims })
      .setProtectedHeader({ alg: algorithm, typ: 'JWT', ...(config.keyId ? { kid: config.keyId } : {}) })
      .setIssuer(config.issuer ?? this.#clientId)
      .setSubject(config.subject ?? this.#clientId)
      .setAudience(config.audience ?? audience)
      .setJti(randomUUID())
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + (config.lifetimeSeconds ?? 300))
      .sign(await this.#key);
    return {
      params: new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion }),
      secrets: [assertion],
    };
  }
}
