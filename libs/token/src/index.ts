export * from './clock.js';
export * from './http/axios-augmentation.js';
export * from './http/origin-policy.js';
export { currentTokenProvider, runWithTokenProvider } from './http/token-context.js';
export * from './http/token-fetch.js';
export * from './http/token-http.interceptor.js';
export { requestUrlOf } from './http/axios-request-url.js';
export * from './http/token-metadata.accessor.js';
export * from './http/token-request-authorizer.js';
export * from './http/use-token.decorator.js';
export * from './config/provider-options.schema.js';
export * from './stores/memory-token.store.js';
export {
  REDIS_STORE_DEFAULTS,
  redisStoreOptionsSchema,
  type RedisStoreOptions,
  type TokenEncryptionKey,
} from './stores/redis-store.options.js';
export * from './stores/token-store.interface.js';
export * from './strategies/custom.options.js';
export * from './strategies/jwt.options.js';
export * from './strategies/jwt.strategy.js';
export * from './strategies/oauth2/oauth2.options.js';
export * from './strategies/oauth2/oauth2.strategy.js';
export * from './strategies/oauth2/oauth2-cache-key.js';
export type { OAuth2ClientAuthMethod } from './strategies/oauth2/oauth2-client-auth.js';
export type { ClientAssertionAlgorithm } from './strategies/oauth2/oauth2-client-assertion.js';
export type { DpopOptions, DpopAlgorithm } from './dpop/dpop.options.js';
export type { MtlsOptions } from './strategies/oauth2/oauth2-mtls.js';
export type {
  AuthorizationServerMetadata,
  OAuth2DiscoveryOptions,
} from './strategies/oauth2/oauth2-discovery.js';
export {
  ACCESS_TOKEN_TYPE,
  JWT_BEARER_GRANT_TYPE,
  TOKEN_EXCHANGE_GRANT_TYPE,
  type JwtBearerOptions,
  type TokenExchangeOptions,
} from './strategies/oauth2/oauth2-grants.options.js';
export * from './token.constants.js';
export * from './token.errors.js';
export * from './token.events.js';
export { TOKEN_MODULE_OPTIONS } from './token.module-definition.js';
export type { TokenModuleAsyncOptions } from './token.module.js';
export * from './token.module.js';
export * from './token.options.js';
export * from './token.service.js';
export * from './token.service-settings.js';
export { tokenConfigFromEnv } from './config/token-config.loader.js';
export * from './token-event-emitter.bridge.js';
export * from './token-info.js';
export * from './refresh/token-refresh.policy.js';
export type { RefreshState } from './refresh/token-refresh.state.js';
export * from './refresh/token-refresh.scheduler.js';
export * from './refresh/token-stats.js';
export * from './token-strategy.interface.js';
export * from './metrics/token-metrics.opentelemetry.js';
export * from './metrics/token-metrics.snapshot.js';
