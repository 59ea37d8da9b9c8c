import { checkTokenExchangeSources } from '../config/token-exchange-sources.check.js';
import { Logger, Module, type Provider } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DiscoveryModule, DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { systemClock } from '../core/clock.js';
import { createTokenStore } from '../stores/token-store.factory.js';
import { TOKEN_CLOCK } from '../core/token.constants.js';
import {
  ConfigurableTokenModule,
  TOKEN_MODULE_OPTIONS,
  TOKEN_MODULE_ASYNC_OPTIONS_TYPE,
  TOKEN_MODULE_OPTIONS_TYPE,
} from './token.module-definition.js';

/** What `TokenModule.forRootAsync` takes: `imports`, `inject`, `useFactory` (or `useClass`/`useExisting`), `isGlobal`. */
export type TokenModuleAsyncOptions = typeof TOKEN_MODULE_ASYNC_OPTIONS_TYPE;
import type { TokenModuleOptions } from '../config/token.options.js';
import { TokenService } from './token.service.js';
import { TokenSource } from '../core/token-source.js';
import { TokenEventEmitterBridge } from './token-event-emitter.bridge.js';
import { TokenRefreshScheduler } from './token-refresh.scheduler.js';
import { TokenContextExplorer } from '../http/token-context.explorer.js';
import { TokenFetch } from '../http/token-fetch.js';
import { TokenHttpInterceptor } from '../http/token-http.interceptor.js';
import { TokenMetadataAccessor } from '../http/token-metadata.accessor.js';
import { TokenRequestAuthorizer } from '../http/token-request-authorizer.js';
import { UseTokenProviderCheck } from '../http/use-token.check.js';
import { resolveTokenConfig, type ResolvedTokenConfig } from '../config/token-config.loader.js';
import { createStrategy, providerOptionsOf } from './token-strategy.factory.js';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';

/** The validated configuration in force, for the module's own parts (scheduler, HTTP, store). */
export const TOKEN_RESOLVED_CONFIG = Symbol('TOKEN_RESOLVED_CONFIG');

const resolvedConfigProvider: Provider = {
  provide: TOKEN_RESOLVED_CONFIG,
  // ConfigService is in reach when ConfigModule is global (`isGlobal: true`) or imported through
  // `forRootAsync({ imports: [ConfigModule] })`.
  inject: [TOKEN_MODULE_OPTIONS, { token: ConfigService, optional: true }],
  useFactory: (options: TokenModuleOptions, config?: ConfigService) => resolveTokenConfig(options, config),
};

const clockProvider: Provider = {
  provide: TOKEN_CLOCK,
  inject: [TOKEN_MODULE_OPTIONS],
  useFactory: (options: TokenModuleOptions) => options.clock ?? systemClock,
};

/** Builds the service and registers every configured provider before anyone can inject it. */
const tokenServiceProvider: Provider = {
  provide: TokenService,
  inject: [TOKEN_MODULE_OPTIONS, TOKEN_RESOLVED_CONFIG, TOKEN_CLOCK, ModuleRef],
  useFactory: async (
    options: TokenModuleOptions,
    config: ResolvedTokenConfig,
    clock: typeof systemClock,
    moduleRef: ModuleRef,
  ) => {
    if (config.providers === undefined) {
      new Logger('TokenModule').warn(
        'no token providers configured: pass `providers` or put them in the ConfigService "token" namespace ' +
          '(ConfigModule.forRoot({ isGlobal: true }))',
      );
    }
    checkTokenExchangeSources(config.providers ?? {});
    // Strategies first: one that fails to build must not leave a store connection open behind it.
    const strategies: Array<[string, TokenStrategy, ProviderOptions]> = [];
    for (const [name, providerConfig] of Object.entries(config.providers ?? {})) {
      strategies.push([
        name,
        await createStrategy(name, providerConfig, moduleRef, clock),
        providerOptionsOf(providerConfig),
      ]);
    }
    const store = await createTokenStore(options.store, config, options.redisClient);
    const service = new TokenService({
      clock,
      store,
      safetyMarginMs: config.safetyMarginMs,
      refreshTimeoutMs: config.refreshTimeoutMs,
      maxVariantsPerProvider: config.maxVariantsPerProvider,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
    });
    for (const [name, strategy, providerOptions] of strategies)
      service.register(name, strategy, providerOptions);
    return service;
  },
};

/**
 * The refresh job goes into the application's `SchedulerRegistry` when it imports
 * `ScheduleModule.forRoot()`, into a private one otherwise. The module does not import
 * `ScheduleModule.forRoot()` itself: a second instance would explore the application's own `@Cron`
 * methods again and register them twice.
 */
const refreshSchedulerProvider: Provider = {
  provide: TokenRefreshScheduler,
  inject: [TokenService, TOKEN_RESOLVED_CONFIG, { token: SchedulerRegistry, optional: true }],
  useFactory: (tokens: TokenService, config: ResolvedTokenConfig, registry?: SchedulerRegistry) =>
    new TokenRefreshScheduler(tokens, registry ?? new SchedulerRegistry(), config.refresh),
};

/** At start-up: every `@UseToken('name')` names a registered provider (or a warning, if so configured). */
const useTokenCheckProvider: Provider = {
  provide: UseTokenProviderCheck,
  inject: [DiscoveryService, MetadataScanner, TokenMetadataAccessor, TokenService, TOKEN_RESOLVED_CONFIG],
  useFactory: (
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    accessor: TokenMetadataAccessor,
    tokens: TokenService,
    config: ResolvedTokenConfig,
  ) => new UseTokenProviderCheck(discovery, scanner, accessor, tokens, config.unregisteredProviders),
};

/**
 * Registers `TokenService` with the providers from the options or from `ConfigService`'s `token`
 * namespace. Global by default (`isGlobal: true`), like `ConfigModule`.
 *
 * @publicApi
 * @example
 * TokenModule.forRoot({ providers: { kling: { type: 'jwt', accessKey, secretKey } } })
 * TokenModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
 *   useFactory: (config: ConfigService) => config.getOrThrow('token') })
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    resolvedConfigProvider,
    clockProvider,
    tokenServiceProvider,
    refreshSchedulerProvider,
    TokenEventEmitterBridge,
    // HTTP integration: @UseToken contexts, the axios interceptor, the fetch wrapper.
    TokenMetadataAccessor,
    TokenContextExplorer,
    useTokenCheckProvider,
    { provide: TokenSource, useExisting: TokenService },
    TokenRequestAuthorizer,
    TokenHttpInterceptor,
    TokenFetch,
  ],
  exports: [
    TokenService,
    TokenRefreshScheduler,
    TOKEN_CLOCK,
    TOKEN_RESOLVED_CONFIG,
    TokenHttpInterceptor,
    TokenFetch,
  ],
})
export class TokenModule extends ConfigurableTokenModule {
  /** With no options, everything comes from `ConfigService`'s `token` namespace. */
  static override forRoot(options: typeof TOKEN_MODULE_OPTIONS_TYPE = {}) {
    return super.forRoot({ isGlobal: true, ...options });
  }
}
