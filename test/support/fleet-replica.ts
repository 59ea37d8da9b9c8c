// One replica of the fleet tests, run in its own process by `fleet-replicas.ts`:
// a Nest application context with TokenModule on the Redis store, calling getToken() steadily.
import 'reflect-metadata';
import { Logger, Module, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TokenModule } from '../../libs/token/src/module/token.module.js';
import { TokenService } from '../../libs/token/src/module/token.service.js';
import { TokenInfo } from '../../libs/token/src/core/token-info.js';
import type { TokenStrategy } from '../../libs/token/src/core/token-strategy.interface.js';
import type { ReplicaConfig, ReplicaReport, ReplicaRequest } from './fleet-replicas.js';

const config = JSON.parse(process.env.FLEET_REPLICA_CONFIG ?? '{}') as ReplicaConfig;

/** Gets tokens from the test's loopback endpoint, saying which replica asks. */
class EndpointStrategy implements TokenStrategy {
  readonly cacheKey = 'fleet:api';

  async generate(): Promise<TokenInfo> {
    const response = await fetch(config.tokenUrl, { method: 'POST', headers: { 'x-replica': config.id } });
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    const body = (await response.json()) as { access_token: string; expires_in: number };
    const now = Date.now();
    return new TokenInfo({
      token: body.access_token,
      issuedAt: now,
      expiresAt: now + body.expires_in * 1000,
    });
  }
}

/** Keeps the store's lines for the report; prints warnings and errors for whoever reads stderr. */
class ReplicaLogger implements LoggerService {
  readonly storeLines: string[] = [];
  log(message: unknown, context?: string) {
    this.keep(message, context);
  }
  warn(message: unknown, context?: string) {
    this.keep(message, context);
    process.stderr.write(`[${config.id}] warn ${context}: ${String(message)}\n`);
  }
  error(message: unknown, context?: string) {
    this.keep(message, context);
    process.stderr.write(`[${config.id}] error ${context}: ${String(message)}\n`);
  }
  private keep(message: unknown, context?: string) {
    if (context === 'RedisTokenStore') this.storeLines.push(String(message));
  }
}

@Module({
  imports: [
    TokenModule.forRoot({
      store: 'redis',
      redis: config.redis,
      safetyMarginMs: config.safetyMarginMs,
      refresh: { cron: '* * * * * *' },
      providers: {
        api:
          config.oauth2 === undefined
            ? { type: 'custom', useFactory: () => new EndpointStrategy() }
            : { type: 'oauth2', tokenUrl: config.tokenUrl, ...config.oauth2 },
      },
    }),
  ],
})
class ReplicaModule {}

const logger = new ReplicaLogger();
Logger.overrideLogger(logger);
const app = await NestFactory.createApplicationContext(ReplicaModule, { logger, abortOnError: false });
const tokens = app.get(TokenService);

const report: Omit<ReplicaReport, 'storeLines'> = {
  id: config.id,
  calls: 0,
  failures: 0,
  errors: [],
  expiredUses: 0,
  tokens: [],
  current: undefined,
  slowestCallMs: 0,
};
const seen = new Set<string>();
const timer = setInterval(() => {
  report.calls++;
  const startedAt = Date.now();
  const took = () => (report.slowestCallMs = Math.max(report.slowestCallMs, Date.now() - startedAt));
  tokens.getToken('api').then(
    (info) => {
      took();
      if (info.expiresAt <= Date.now()) report.expiredUses++;
      if (!seen.has(info.token)) {
        seen.add(info.token);
        report.tokens.push(info.token);
      }
      report.current = info.token;
    },
    (error: unknown) => {
      took();
      report.failures++;
      if (report.errors.length < 5) report.errors.push(String((error as Error).message));
    },
  );
}, config.callIntervalMs);

process.on('message', (request: ReplicaRequest) => {
  if (request.type === 'report') {
    process.send!({
      id: request.id,
      report: { ...report, tokens: [...report.tokens], storeLines: [...logger.storeLines] },
    });
  } else if (request.type === 'invalidate') {
    void tokens.invalidate('api').finally(() => process.send!({ id: request.id }));
  } else if (request.type === 'stop') {
    clearInterval(timer);
    void app.close().finally(() => {
      process.send!({ id: request.id });
      process.disconnect();
    });
  }
});
process.on('disconnect', () => process.exit(0)); // the test runner went away
process.send!({ id: 0 });
