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
  /** Fetches or mints a new token. Throw on failure; a failure is never cached as a token. */
  generate(): Promise<TokenInfo>;
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
