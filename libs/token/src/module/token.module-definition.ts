import { ConfigurableModuleBuilder, type DynamicModule, type Provider } from '@nestjs/common';
import { hideSecretsFromInspection } from '../config/secret-hiding.js';
import type { TokenModuleOptions } from '../config/token.options.js';

/**
 * The options provider holds a copy of the options whose `util.inspect` hides the credentials: the
 * whole Nest container is reachable from any provider that injects `ModuleRef` or `DiscoveryService`.
 */
function hideOptions(definition: DynamicModule): DynamicModule {
  const hide = (options: object) => hideSecretsFromInspection({ ...options });
  const providers = definition.providers?.map((provider: Provider): Provider => {
    if (typeof provider !== 'object' || provider.provide !== TOKEN_MODULE_OPTIONS) return provider;
    if ('useValue' in provider) return { ...provider, useValue: hide(provider.useValue as object) };
    if ('useFactory' in provider) {
      const factory = provider.useFactory;
      return { ...provider, useFactory: async (...args: unknown[]) => hide(await factory(...args)) };
    }
    return provider;
  });
  return { ...definition, providers };
}

export const {
  ConfigurableModuleClass: ConfigurableTokenModule,
  MODULE_OPTIONS_TOKEN: TOKEN_MODULE_OPTIONS,
  OPTIONS_TYPE: TOKEN_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: TOKEN_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TokenModuleOptions>({ moduleName: 'Token' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...hideOptions(definition),
    global: extras.isGlobal,
  }))
  .build();
