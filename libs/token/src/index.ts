/*
 * `nest-token-manager`: the curated public API. Every name here is one a user needs; internals stay
 * reachable only by deep import inside the repository. `test/package-exports.e2e-spec.ts` pins the
 * list (and that each name is documented at its declaration), so an addition is a deliberate change.
 * Schemas are not exported: they would tie the public API to zod's major.
 */

// Adds the per-request `token` option to axios' request config (a type-only augmentation).
export {} from './http/axios-augmentation.js';

// The module and its options.
export { TokenModule, type TokenModuleAsyncOptions } from './module/token.module.js';
export type { TokenConfig, TokenModuleOptions, TokenProviderConfig } from './config/token.options.js';
export type { CustomProviderConfig } from './config/custom.options.js';
export type { ProviderOptions } from './config/provider-options.schema.js';
export type { RedisStoreOptions } from './config/redis-store.options.js';
export { tokenConfigFromEnv } from './config/token-config.loader.js';
export { TOKEN_DEFAULTS } from './core/token.constants.js';
export type { Clock } from './core/clock.js';

// The service and its per-call options.
export { TokenService } from './module/token.service.js';
export type { GetTokenOptions, InvalidateOptions } from './core/token.service-settings.js';
export { TokenInfo } from './core/token-info.js';
export type { ProviderTokenStats, RefreshState, TokenStats } from './core/token-stats.types.js';

// Outgoing HTTP: @UseToken, the request context, the axios interceptor and the fetch wrapper.
export { UseToken } from './http/use-token.decorator.js';
export { currentTokenProvider, runWithTokenProvider } from './http/token-context.js';
export { TokenHttpInterceptor } from './http/token-http.interceptor.js';
export {
  createTokenFetch,
  TokenFetch,
  type TokenFetchFunction,
  type TokenFetchInit,
  type TokenFetchOptions,
} from './http/token-fetch.js';

// Strategies: the interface and the built-in ones with their option types.
export type {
  TokenGenerateContext,
  TokenRequestParameters,
  TokenStrategy,
} from './core/token-strategy.interface.js';
export { JwtStrategy } from './strategies/jwt.strategy.js';
export type { JwtProviderConfig } from './config/jwt.options.js';
export { OAuth2Strategy } from './strategies/oauth2/oauth2.strategy.js';
export type { OAuth2ProviderConfig } from './config/oauth2.options.js';
export type { OAuth2DiscoveryOptions } from './config/oauth2-discovery.options.js';
export type { JwtBearerOptions, TokenExchangeOptions } from './config/oauth2-grants.options.js';
export type { DpopOptions } from './config/dpop.options.js';
export type { MtlsOptions } from './config/oauth2-mtls.options.js';

// The store interface (fleet mode: `nest-token-manager/redis`).
export type { TokenStore } from './core/token-store.interface.js';

// Errors and their codes.
export {
  InvalidTokenOptionsError,
  TokenAcquisitionError,
  TokenEndpointError,
  TokenEndpointHeldError,
  TokenEndpointRetryLaterError,
  TokenError,
  type TokenErrorCode,
  TokenInsufficientScopeError,
  TokenOriginError,
  TokenProviderNotFoundError,
  TokenRequestError,
  TokenResponseError,
  TokenSenderConstraintError,
} from './core/token.errors.js';

// Events.
export { TokenEvents, type TokenEventMap, type TokenEventName } from './core/token.events.js';
