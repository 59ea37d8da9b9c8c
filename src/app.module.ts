import { HttpModule } from '@nestjs/axios';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import { TokenModule, type TokenConfig } from '@app/token';
import type { DemoScenario } from './demo/demo-scenario.js';
import { KLING_API_BASE_URL, KlingApiClient } from './kling-api.client.js';
import { PARTNER_API_BASE_URL, PartnerApiClient } from './partner-api.client.js';

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
 * Lifetimes are seconds, not the usual 30–60 minutes, so the demo shows many of them.
 */
function demoTokenConfig(endpoints: DemoEndpoints, scenario: DemoScenario): TokenConfig {
  return {
    // The background sweep runs every second, as a 30-second sweep would for 30-minute tokens.
    refresh: { cron: '* * * * * *' },
    providers: {
      kling: {
        type: 'jwt',
        accessKey: endpoints.klingAccessKey,
        secretKey: endpoints.klingSecretKey,
        expiresInSeconds: scenario.klingLifetimeSeconds,
        safetyMarginMs: scenario.klingMarginMs,
        baseUrls: [endpoints.klingApi],
      },
      partner: {
        type: 'oauth2',
        tokenUrl: `${endpoints.partnerAuth}/oauth/token`,
        clientId: endpoints.partnerClientId,
        clientSecret: endpoints.partnerClientSecret,
        scope: ['balance:read'],
        safetyMarginMs: scenario.partnerMarginMs,
        baseUrls: [endpoints.partnerAuth],
      },
    },
  };
}

@Module({})
export class AppModule {
  static forDemo(endpoints: DemoEndpoints, scenario: DemoScenario): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [registerAs('token', () => demoTokenConfig(endpoints, scenario))],
        }),
        TokenModule.forRoot(),
        HttpModule,
      ],
      providers: [
        KlingApiClient,
        PartnerApiClient,
        { provide: KLING_API_BASE_URL, useValue: endpoints.klingApi },
        { provide: PARTNER_API_BASE_URL, useValue: endpoints.partnerAuth },
      ],
    };
  }
}
