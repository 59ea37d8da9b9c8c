import { HttpModule } from '@nestjs/axios';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import { TokenModule, type TokenConfig } from '@app/token';
import { KLING_API_BASE_URL, KlingApiClient } from './kling-api.client.js';

export interface DemoEndpoints {
  klingApi: string;
  partnerAuth: string;
  klingAccessKey: string;
  klingSecretKey: string;
  partnerClientId: string;
  partnerClientSecret: string;
}

/**
 * The providers live in configuration (the `token` namespace of ConfigService), as they would in an
 * app that loads them from env vars or YAML: adding a provider is a config change, not a code change.
 */
function demoTokenConfig(endpoints: DemoEndpoints): TokenConfig {
  return {
    providers: {
      kling: {
        type: 'jwt',
        accessKey: endpoints.klingAccessKey,
        secretKey: endpoints.klingSecretKey,
        expiresInSeconds: 1800,
        baseUrls: [endpoints.klingApi],
      },
      partner: {
        type: 'oauth2',
        tokenUrl: `${endpoints.partnerAuth}/oauth/token`,
        clientId: endpoints.partnerClientId,
        clientSecret: endpoints.partnerClientSecret,
        scope: ['balance:read'],
        baseUrls: [endpoints.partnerAuth],
      },
    },
  };
}

@Module({})
export class AppModule {
  static forDemo(endpoints: DemoEndpoints): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [registerAs('token', () => demoTokenConfig(endpoints))],
        }),
        TokenModule.forRoot(),
        HttpModule,
      ],
      providers: [KlingApiClient, { provide: KLING_API_BASE_URL, useValue: endpoints.klingApi }],
    };
  }
}
