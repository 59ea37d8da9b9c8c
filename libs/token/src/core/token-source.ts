import type { SenderConstraint } from './sender-constraint.js';
import type { TokenInfo } from './token-info.js';

/** The part of a provider's registered options the HTTP integration applies: where its token may go. */
export interface ProviderOriginRules {
  readonly baseUrls?: readonly string[];
  readonly strictOrigin?: boolean;
  readonly allowInsecureHttp?: boolean;
}

/**
 * What the HTTP integration asks of the token cache. `TokenService` implements it and the module
 * provides it under this class, so http/ depends on this contract, never on the service.
 */
export abstract class TokenSource {
  abstract getToken(provider: string): Promise<TokenInfo>;
  abstract providerNames(): string[];
  abstract getProviderOptions(provider: string): Readonly<ProviderOriginRules>;
  abstract renewAfterUnauthorized(provider: string, rejectedToken: string): Promise<TokenInfo>;
  abstract noteTokenAccepted(provider: string, token: string): void;
  /** How the provider's strategy binds its tokens (DPoP key, client certificate), if it does. */
  abstract senderConstraintOf(provider: string): SenderConstraint | undefined;
}
