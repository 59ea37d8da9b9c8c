import { createHash } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';
import { systemClock, type Clock } from '../core/clock.js';
import { TOKEN_DEFAULTS } from '../core/token.constants.js';
import { TokenInfo } from '../core/token-info.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';
import { parseOrThrow, validatedOr } from '../config/validation.js';
import { jwtProviderSchema, type ParsedJwtConfig, type JwtProviderConfig } from '../config/jwt.options.js';
import { importPrivateKey } from '../config/private-key.check.js';

/**
 * Mints a JWT signed with the provider's own key: KlingAI's scheme by default
 * (header `{alg: HS256, typ: JWT}`, `iss` = access key, `exp` = now + 1800 s, `nbf` = now − 5 s).
 *
 * The configuration is validated like a module provider's (`InvalidTokenOptionsError` naming the
 * field). The secret, the private key and the imported signing key live in `#private` fields, so
 * `util.inspect`, `console.log` and `JSON.stringify` of a strategy never show them.
 *
 * @publicApi
 */
export class JwtStrategy implements TokenStrategy {
  readonly cacheKey: string;
  readonly #config: ParsedJwtConfig;
  readonly #clock: Clock;
  readonly #algorithm: string;
  #signingKey?: Promise<CryptoKey | Uint8Array>;

  constructor(config: Omit<JwtProviderConfig, 'type'>, clock: Clock = systemClock) {
    this.#config = validatedOr(config, () =>
      parseOrThrow(jwtProviderSchema, { ...config, type: 'jwt' }, 'jwt strategy'),
    );
    this.#clock = clock;
    this.#algorithm = this.#config.algorithm ?? 'HS256';
    // The access key is public (it is the `iss` claim); a digest of the claims keeps keys short and
    // separates two providers that share an access key but mint different tokens.
    const claimsDigest = createHash('sha256')
      .update(
        JSON.stringify([this.#algorithm, this.#config.claims ?? {}, this.#config.expiresInSeconds ?? null]),
      )
      .digest('base64url')
      .slice(0, 12);
    this.cacheKey = `jwt:${this.#config.accessKey}:${claimsDigest}`;
  }

  async generate(): Promise<TokenInfo> {
    const config = this.#config;
    const nowMs = this.#clock.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const expiresInSeconds = config.expiresInSeconds ?? TOKEN_DEFAULTS.jwtExpiresInSeconds;
    const skewSeconds = config.notBeforeSkewSeconds ?? TOKEN_DEFAULTS.jwtNotBeforeSkewSeconds;
    const exp = nowSeconds + expiresInSeconds;

    const token = await new SignJWT({ ...config.claims })
      .setProtectedHeader({ ...config.header, alg: this.#algorithm, typ: 'JWT' })
      .setIssuer(config.accessKey)
      .setExpirationTime(exp)
      .setNotBefore(nowSeconds - skewSeconds)
      .sign(await this.#key());

    return new TokenInfo({
      token,
      tokenType: config.tokenType ?? 'Bearer',
      issuedAt: nowMs,
      expiresAt: exp * 1000,
    });
  }

  /** The signing key, imported once; a failed import is forgotten so a later call tries again. */
  #key(): Promise<CryptoKey | Uint8Array> {
    this.#signingKey ??= this.#importKey().catch((error: unknown) => {
      this.#signingKey = undefined;
      throw error;
    });
    return this.#signingKey;
  }

  async #importKey(): Promise<CryptoKey | Uint8Array> {
    const { secretKey, privateKey } = this.#config;
    if (this.#algorithm.startsWith('HS')) return new TextEncoder().encode(secretKey);
    return importPrivateKey(privateKey!, this.#algorithm, 'jwt');
  }
}
