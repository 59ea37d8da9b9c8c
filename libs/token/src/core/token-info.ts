import { inspect } from 'node:util';

/** Fields of a {@link TokenInfo}; what a strategy returns. */
export interface TokenInfoInit {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Epoch milliseconds; defaults to now. */
  issuedAt?: number;
  /** Default `Bearer`. */
  tokenType?: string;
  provider?: string;
  /** Anything else the issuer returned, e.g. `refresh_token`, `scope`. */
  extra?: Record<string, unknown>;
}

/**
 * A token and what is known of it. Serialising it (`JSON.stringify`, `console.log`, `util.inspect`)
 * never shows the token value nor the values in `extra`.
 *
 * @publicApi
 */
export class TokenInfo {
  readonly token: string;
  readonly tokenType: string;
  readonly expiresAt: number;
  readonly issuedAt: number;
  readonly provider: string;
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(init: TokenInfoInit) {
    this.token = init.token;
    this.tokenType = init.tokenType ?? 'Bearer';
    this.expiresAt = init.expiresAt;
    this.issuedAt = init.issuedAt ?? Date.now();
    this.provider = init.provider ?? '';
    this.extra = init.extra ?? {};
  }

  /** A copy with other fields, e.g. the provider name set by the service. */
  with(changes: Partial<TokenInfoInit>): TokenInfo {
    return new TokenInfo({ ...this.toInit(), ...changes });
  }

  /** Lifetime the issuer granted, in ms. */
  get lifetimeMs(): number {
    return this.expiresAt - this.issuedAt;
  }

  /** True once the expiry time has been reached. */
  get isExpired(): boolean {
    return this.isExpiredAt(Date.now());
  }

  /** Milliseconds left (negative once expired). */
  get expiresIn(): number {
    return this.expiresAt - Date.now();
  }

  /** True when less than `marginMs` is left (exactly `marginMs` left is not near expiry). */
  isNearExpiry(marginMs: number, now = Date.now()): boolean {
    return this.expiresAt - now < marginMs;
  }

  isExpiredAt(now: number): boolean {
    return now >= this.expiresAt;
  }

  /** The `Authorization` header value, e.g. `Bearer eyJ…`. */
  get authorizationHeader(): string {
    return `${this.tokenType} ${this.token}`;
  }

  toJSON(): Record<string, unknown> {
    return {
      provider: this.provider,
      tokenType: this.tokenType,
      issuedAt: this.issuedAt,
      expiresAt: this.expiresAt,
      token: '[redacted]',
      extra: Object.keys(this.extra),
    };
  }

  [inspect.custom](): string {
    return `TokenInfo ${JSON.stringify(this.toJSON())}`;
  }

  /** Every field, token included; for stores that must persist the token (encrypted). */
  toInit(): TokenInfoInit {
    return {
      token: this.token,
      tokenType: this.tokenType,
      expiresAt: this.expiresAt,
      issuedAt: this.issuedAt,
      provider: this.provider,
      extra: { ...this.extra },
    };
  }
}
