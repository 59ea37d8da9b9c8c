// A Nest 11 app with every optional peer at the lowest major the package supports: the main entry
// plus the /health, /metrics and /redis subpaths must type-check (skipLibCheck false) and load.
import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { TokenModule, TokenService, UseToken } from 'nest-token-manager';
import { TokenHealthIndicator, TokenHealthModule } from 'nest-token-manager/health';
import { registerTokenMetrics } from 'nest-token-manager/metrics';
import { RedisTokenStore } from 'nest-token-manager/redis';
import { Registry } from 'prom-client';
import { firstValueFrom } from 'rxjs';

const ORIGIN = Symbol('ORIGIN');
let tokenRequests = 0;

const server = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.method === 'POST' && req.url === '/oauth/token') {
    tokenRequests++;
    return res.end(
      JSON.stringify({ access_token: 'consumer-token-1', token_type: 'Bearer', expires_in: 3600 }),
    );
  }
  const ok = req.url === '/v1/me' && req.headers.authorization === 'Bearer consumer-token-1';
  res.statusCode = ok ? 200 : 401;
  res.end(JSON.stringify(ok ? { me: 'consumer' } : { error: 'invalid_token' }));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

@Injectable()
@UseToken('partner')
class PartnerClient {
  constructor(
    private readonly http: HttpService,
    @Inject(ORIGIN) private readonly base: string,
  ) {}

  async me(): Promise<{ me: string }> {
    const { data } = await firstValueFrom(this.http.get<{ me: string }>(`${this.base}/v1/me`));
    return data;
  }
}

@Injectable()
class RefreshListener {
  readonly seen: string[] = [];
  @OnEvent('token.refreshed')
  onRefreshed(event: { provider: string }): void {
    this.seen.push(event.provider);
  }
}

@Module({
  imports: [
    HttpModule,
    EventEmitterModule.forRoot(),
    TokenHealthModule,
    TokenModule.forRoot({
      providers: {
        partner: {
          type: 'oauth2',
          tokenUrl: `${origin}/oauth/token`,
          clientId: 'consumer',
          clientSecret: 'consumer-secret',
          baseUrls: [origin],
        },
      },
    }),
  ],
  providers: [PartnerClient, RefreshListener, { provide: ORIGIN, useValue: origin }],
})
class AppModule {}

const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
try {
  await app.init();
  const answer = await app.get(PartnerClient).me();
  const registry = new Registry();
  registerTokenMetrics(app.get(TokenService), registry);
  const metrics = await registry.metrics();
  const health = await app.get(TokenHealthIndicator).isHealthy('tokens');
  const checks = {
    answer: answer.me === 'consumer',
    tokenRequests: tokenRequests === 1,
    event: app.get(RefreshListener).seen.includes('partner'),
    metrics: metrics.includes('cache_hits_total'),
    health: health['tokens']?.status === 'up',
    redisStore: typeof RedisTokenStore === 'function',
  };
  const failed = Object.entries(checks).filter(([, ok]) => !ok);
  if (failed.length > 0) throw new Error(`failed: ${failed.map(([what]) => what).join(', ')}`);
  console.log('consumer nest11 ok: @UseToken + HttpService, events, health, metrics, redis entry');
} finally {
  await app.close();
  server.close();
}
