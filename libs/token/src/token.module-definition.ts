import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { TokenModuleOptions } from './token.options.js';

export const {
  ConfigurableModuleClass: ConfigurableTokenModule,
  MODULE_OPTIONS_TOKEN: TOKEN_MODULE_OPTIONS,
  OPTIONS_TYPE: TOKEN_MODULE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: TOKEN_MODULE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TokenModuleOptions>({ moduleName: 'Token' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
