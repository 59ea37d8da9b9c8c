import type { TokenInfo } from './token-info.js';

/**
 * How a provider gets a token. Implement it for anything the built-in `jwt` and `oauth2` strategies
 * do not cover, and register it as a `custom` provider or with `TokenService.register`.
 *
 * @publicApi
 * @example
 * class VaultStrategy implements TokenStrategy {
 *   readonly cacheKey = 'vault:payments';
 *   constructor(private readonly vault: VaultClient) {}
 *   async generate() {
 *     const { token, ttl } = await this.vault.read('payments');
 *     return new TokenInfo({ token, expiresAt: Date.now() + ttl * 1000 });
 *   }
 * }
 */
export interface TokenStrategy {
  /** Stable identity of the credentials, used to share tokens across replicas. Never contains a secret. */
  readonly cacheKey: string;
  /**
   * Fetches or mints a new token. Throw on failure; a failure is never cached as a token. `context`
   * is optional: a strategy may ignore it.
   */
  generate(context?: TokenGenerateContext): Promise<TokenInfo>;
  /**
   * The same credentials asked for another scope, audience, resource or tenant, e.g.
   * `getToken('graph', { scope: ['Mail.Read'] })`. The returned strategy's `cacheKey` must differ
   * whenever its tokens would. Without this method a provider takes no per-call parameters.
   */
  withParameters?(parameters: TokenRequestParameters): TokenStrategy;
  /**
   * Authorization schemes this strategy's tokens may carry besides `Bearer`, e.g. `['DPoP']`. A token
   * of any other type is refused before it is cached or served, whether `generate()` returned it or
   * another replica shared it. Default: `Bearer` only.
   */
  readonly allowedTokenTypes?: readonly string[];
  /**
   * Releases what the strategy holds open (timers, kept-alive connections). Called once on
   * application shutdown and on `TokenService.unregister()`; never for a variant.
   */
  close?(): void | Promise<void>;
}

/**
 * What a strategy is told when asked for a new token.
 *
 * @publicApi
 */
export interface TokenGenerateContext {
  /**
   * The token being replaced, as the fleet shares it (decrypted from the shared store): with an
   * issuer that rotates refresh tokens, its `extra.refresh_token` is the newest one of the fleet.
   */
  previous?: TokenInfo;
}

/**
 * What a caller may ask for on top of a provider's configuration, per call. Every value is part of
 * the cache key: two calls that differ only in scope never share a token.
 *
 * @publicApi
 */
export interface TokenRequestParameters {
  /**
   * Replaces the provider's scope; order and repeats do not matter. Space-separated RFC 6749 scope
   * tokens: printable ASCII without `"` or `\`.
   */
  scope?: string | readonly string[];
  /** No control characters (CR, LF…). */
  audience?: string;
  /** No control characters (CR, LF…). */
  resource?: string | readonly string[];
  /**
   * Fills `{tenant}` in the provider's `tokenUrl`. One path segment: 1-128 letters, digits, `-`,
   * `_`, `.` or `~`, and not `.` or `..`; anything else is an `InvalidTokenOptionsError` before any
   * request.
   */
  tenant?: string;
  /**
   * For a provider with `tokenExchange`: the token to exchange (e.g. the caller's own access token).
   * Never stored nor logged; its digest is part of the cache key.
   */
  subjectToken?: string;
}

/** True when the value has the shape of a {@link TokenStrategy}. */
export function isTokenStrategy(value: unknown): value is TokenStrategy {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as TokenStrategy).generate === 'function' &&
    typeof (value as TokenStrategy).cacheKey === 'string'
  );
}
