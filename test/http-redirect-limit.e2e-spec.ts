/**
 * The axios adapter follows a token-carrying request's redirects itself; past `maxRedirects` the last
 * redirect's response (a stream with `responseType: 'stream'`) must be released, not left open.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenModule } from '@app/token';
import { countingJwt, customProvider } from './support/http-clients.js';
import { rejection } from './support/rejection.js';

let api: Server;
let origin: string;
let opened = 0;
let closed = 0;
beforeAll(async () => {
  // Every answer is a redirect to itself whose body never ends: only the client can release it.
  api = createServer((_request, response) => {
    opened++;
    response.on('close', () => closed++);
    response.writeHead(302, { location: '/again', 'content-type': 'text/plain' });
    response.write('moved');
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});
afterAll(async () => {
  api.closeAllConnections();
  await new Promise((resolve) => api.close(resolve));
});

it('past maxRedirects the last redirect response is released too', async () => {
  const app = await Test.createTestingModule({
    imports: [
      HttpModule,
      TokenModule.forRoot({
        providers: { kling: customProvider(countingJwt('kling-ak'), { baseUrls: [origin] }) },
        refresh: { enabled: false },
      }),
    ],
  }).compile();
  await app.init();
  try {
    const error = await rejection(
      app
        .get(HttpService)
        .axiosRef.get(`${origin}/start`, { token: 'kling', maxRedirects: 1, responseType: 'stream' }),
    );
    expect(error).toMatchObject({ code: 'ERR_FR_TOO_MANY_REDIRECTS' });
    expect(opened).toBe(2);
    // A released response closes its connection; wait for that (bounded), do not time it.
    for (let i = 0; i < 1_000 && closed < opened; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(opened);
  } finally {
    await app.close();
  }
});
