import type { SenderConstraint } from './sender-constraint.js';
import type { TokenInfo } from './token-info.js';

/** The part of a provider's registered options the HTTP integration applies: where its token may go. */
export interface ProviderOriginRules {
  readonly baseUrls?: readonly string[];
  readonly strictOrigin?: boolean;
  readonly allowInsecureHttp?: boolean;
}

/**
 * One registered provider, as a request uses it: asked of the {@link TokenSource} once per request,
 * then used for every hop of it and for its 401 retry, so that nothing is looked up again by name.
 */
export interface TokenProvider {
  readonly name: string;
  /** Where its token may go, as registered. */
  readonly originRules: Readonly<ProviderOriginRules>;
  /** How its strategy binds its tokens (DPoP key, client certificate), if it does. */
  readonly senderConstraint: SenderConstraint | undefined;
  /** A valid token: the cache hit, or one shared refresh. */
  getToken(): Promise<TokenInfo>;
  /** The token to retry with after an API answered 401 to `rejectedToken`, counted as a retry. */
  renewAfterUnauthorized(rejectedToken: string): Promise<TokenInfo>;
  /** An API answered a request carrying `token` with something else than 401: it accepted it. */
  noteTokenAccepted(token: string): void;
}

/**
 * What the HTTP integration asks of the token cache. `TokenService` implements it and the module
 * provides it under this class, so http/ depends on this contract, never on the service.
 */
export abstract class TokenSource {
  /** The registered provider; throws `TokenProviderNotFoundError` for an unknown name. */
  abstract provider(name: string): TokenProvider;
  abstract providerNames(): string[];
}
