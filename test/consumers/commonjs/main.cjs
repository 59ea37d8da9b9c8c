// CommonJS: require() of the ESM package (Node >= 20.19 loads ES modules without top-level await
// through require). Decorators are applied by hand, as plain JavaScript has no decorator syntax.
'use strict';
require('reflect-metadata');
const { createServer } = require('node:http');
const { HttpModule, HttpService } = require('@nestjs/axios');
const { Inject, Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { TokenModule, TokenService, UseToken } = require('nest-token-manager');
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

  class AppModule {}
  Module({
    imports: [
      HttpModule,
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
    providers: [PartnerClient],
  })(AppModule);

  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  try {
    const answer = await app.get(PartnerClient).me();
    const stats = app.get(TokenService).getStats();
    if (answer.me !== 'consumer' || tokenRequests !== 1 || stats.tokens.partner.cached !== true) {
      throw new Error(`unexpected: ${JSON.stringify({ answer, tokenRequests })}`);
    }
    console.log('consumer commonjs ok: require() + @UseToken + HttpService sent the token, 1 token request');
  } finally {
    await app.close();
    server.close();
  }
}

main().catch((error) => {
  console.error('consumer commonjs failed:', error);
  process.exit(1);
});
