import { createHash } from 'node:crypto';
import { importJWK, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose';
import { systemClock, type Clock } from '../clock.js';
import { TOKEN_DEFAULTS } from '../token.constants.js';
import { TokenInfo } from '../token-info.js';
import type { TokenStrategy } from '../token-strategy.interface.js';
import type { JwtProviderConfig } from './jwt.options.js';

/**
 * Mints a JWT signed with the provider's own key: KlingAI's scheme by default
 * (header `{alg: HS256, typ: JWT}`, `iss` = access key, `exp` = now + 1800 s, `nbf` = now − 5 s).
 *
 * @publicApi
 */
export class JwtStrategy implements TokenStrategy {
  readonly cacheKey: string;
  private readonly algorithm: string;
  private signingKey?: Promise<CryptoKey | Uint8Array>;

  constructor(
    private readonly config: Omit<JwtProviderConfig, 'type'>,
    private readonly clock: Clock = systemClock,
  ) {
    this.algorithm = config.algorithm ?? 'HS256';
    // The access key is public (it is the `iss` claim); a digest of the claims keeps keys short and
    // separates two providers that share an access key but mint different tokens.
    const claimsDigest = createHash('sha256')
      .update(JSON.stringify([this.algorithm, config.claims ?? {}, config.expiresInSeconds ?? null]))
      .digest('base64url')
      .slice(0, 12);
    this.cacheKey = `jwt:${config.accessKey}:${claimsDigest}`;
  }

  async generate(): Promise<TokenInfo> {
    const nowMs = this.clock.now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const expiresInSeconds = this.config.expiresInSeconds ?? TOKEN_DEFAULTS.jwtExpiresInSeconds;
    const skewSeconds = this.config.notBeforeSkewSeconds ?? TOKEN_DEFAULTS.jwtNotBeforeSkewSeconds;
    const exp = nowSeconds + expiresInSeconds;

    const token = await new SignJWT({ ...this.config.claims })
      .setProtectedHeader({ ...this.config.header, alg: this.algorithm, typ: 'JWT' })
      .setIssuer(this.config.accessKey)
      .setExpirationTime(exp)
      .setNotBefore(nowSeconds - skewSeconds)
      .sign(await this.key());

    return new TokenInfo({
      token,
      tokenType: this.config.tokenType ?? 'Bearer',
      issuedAt: nowMs,
      expiresAt: exp * 1000,
    });
  }

  private key(): Promise<CryptoKey | Uint8Array> {
    this.signingKey ??= this.importKey();
    return this.signingKey;
  }

  private async importKey(): Promise<CryptoKey | Uint8Array> {
    const { secretKey, privateKey } = this.config;
    if (this.algorithm.startsWith('HS')) return new TextEncoder().encode(secretKey);
    if (typeof privateKey === 'string') return importPKCS8(privateKey, this.algorithm);
    const key = await importJWK(privateKey as JWK, this.algorithm);
    return key;
  }
}
