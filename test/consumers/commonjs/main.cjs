// CommonJS: require() of the ESM package (Node >= 20.19 loads ES modules without top-level await
// through require). Decorators are applied by hand, as plain JavaScript has no decorator syntax.
'use strict';
require('reflect-metadata');
const { createServer } = require('node:http');
const { HttpModule, HttpService } = require('@nestjs/axios');
const { Inject, Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { EventEmitterModule, OnEvent } = require('@nestjs/event-emitter');
const { TokenModule, TokenService, UseToken } = require('nest-token-manager');
const { TokenHealthIndicator, TokenHealthModule } = require('nest-token-manager/health');
const { registerTokenMetrics } = require('nest-token-manager/metrics');
const { RedisTokenStore } = require('nest-token-manager/redis');
const { Registry } = require('prom-client');
const { firstValueFrom } = require('rxjs');

async function main() {
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
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;

  class PartnerClient {
    constructor(http) {
      this.http = http;
    }
    async me() {
      const { data } = await firstValueFrom(this.http.get(`${origin}/v1/me`));
      return data;
    }
  }
  Inject(HttpService)(PartnerClient, undefined, 0);
  Injectable()(PartnerClient);
  UseToken('partner')(PartnerClient);

  class RefreshListener {
    constructor() {
      this.seen = [];
    }
    onRefreshed(event) {
      this.seen.push(event.provider);
    }
  }
  Injectable()(RefreshListener);
  OnEvent('token.refreshed')(
    RefreshListener.prototype,
    'onRefreshed',
    Object.getOwnPropertyDescriptor(RefreshListener.prototype, 'onRefreshed'),
  );

  class AppModule {}
  Module({
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
    providers: [PartnerClient, RefreshListener],
  })(AppModule);

  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  try {
    await app.init();
    const answer = await app.get(PartnerClient).me();
    const stats = app.get(TokenService).getStats();
    const registry = new Registry();
    registerTokenMetrics(app.get(TokenService), registry);
    const health = await app.get(TokenHealthIndicator).isHealthy('tokens');
    const checks = {
      answer: answer.me === 'consumer',
      tokenRequests: tokenRequests === 1,
      cached: stats.tokens.partner.cached === true,
      event: app.get(RefreshListener).seen.includes('partner'),
      metrics: (await registry.metrics()).includes('cache_hits_total'),
      health: health.tokens.status === 'up',
      redisStore: typeof RedisTokenStore === 'function',
    };
    const failed = Object.keys(checks).filter((what) => !checks[what]);
    if (failed.length > 0) throw new Error(`failed: ${failed.join(', ')}`);
    console.log(
      'consumer commonjs ok: require() + @UseToken + HttpService, events, health, metrics, redis entry',
    );
  } finally {
    await app.close();
    server.close();
  }
}

main().catch((error) => {
  console.error('consumer commonjs failed:', error);
  process.exit(1);
});
