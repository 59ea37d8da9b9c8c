// A consumer app as a user writes it: ESM, strict, every library type checked (skipLibCheck false).
import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TokenModule, TokenService, UseToken, type TokenModuleOptions } from 'nest-token-manager';
import { firstValueFrom } from 'rxjs';

const ORIGIN = Symbol('ORIGIN');
let tokenRequests = 0;

// One loopback server: an OAuth2 token endpoint and an API that accepts only the token it issued.
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

const options: TokenModuleOptions = {
  providers: {
    partner: {
      type: 'oauth2',
      tokenUrl: `${origin}/oauth/token`,
      clientId: 'consumer',
      clientSecret: 'consumer-secret',
      baseUrls: [origin],
    },
  },
};

@Module({
  imports: [HttpModule, TokenModule.forRoot(options)],
  providers: [PartnerClient, { provide: ORIGIN, useValue: origin }],
})
class AppModule {}

const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
try {
  const answer = await app.get(PartnerClient).me();
  const stats = app.get(TokenService).getStats();
  if (answer.me !== 'consumer' || tokenRequests !== 1 || stats.tokens['partner']?.cached !== true) {
    throw new Error(`unexpected: ${JSON.stringify({ answer, tokenRequests })}`);
  }
  console.log('consumer nest12-esm ok: @UseToken + HttpService sent the token, 1 token request');
} finally {
  await app.close();
  server.close();
}
