import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DiscoveryService } from '@nestjs/core';
import axios from 'axios';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenInfo } from '../core/token-info.js';
import type { TokenSource } from '../core/token-source.js';
import { TokenService } from '../module/token.service.js';
import { createTokenFetch } from './token-fetch.js';
import { TokenHttpInterceptor } from './token-http.interceptor.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';

/**
 * The HTTP integration asks the registry for the provider once per request: its origin rules, sender
 * constraint, token and 401 renewal then serve every redirect hop and the retry. A real loopback API:
 * `/start` redirects twice to `/end`, which answers 401 to the first token and 200 to the next.
 */
describe('the HTTP integration asks the registry once per request', () => {
  let server: Server;
  let origin: string;
  const accepted = new Set<string>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      if (path.startsWith('/start')) return void response.writeHead(302, { location: '/middle' }).end();
      if (path.startsWith('/middle')) return void response.writeHead(307, { location: '/end' }).end();
      const header = request.headers.authorization ?? '';
      // The first token a case sends is rejected once; its renewal is accepted.
      if (!accepted.has(header) && header.endsWith('-1')) return void response.writeHead(401).end();
      accepted.add(header);
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** A registry whose `provider()` lookups are counted, with one provider minting `<case>-1`, `<case>-2`… */
  function setUp(label: string) {
    const service = new TokenService();
    let minted = 0;
    service.register(
      'api',
      {
        cacheKey: label,
        generate: async () =>
          new TokenInfo({ token: `${label}-${++minted}`, expiresAt: Date.now() + 3_600_000 }),
      },
      { baseUrls: [origin], allowInsecureHttp: true },
    );
    const lookups: string[] = [];
    const source: TokenSource = {
      provider: (name) => {
        lookups.push(name);
        return service.provider(name);
      },
      providerNames: () => service.providerNames(),
    };
    return { service, source, lookups, minted: () => minted };
  }

  it('fetch: two redirects and a 401 retry, one lookup', async () => {
    const { service, source, lookups, minted } = setUp('fetch');
    const response = await createTokenFetch(source, 'api')(`${origin}/start`);
    expect(response.status).toBe(200);
    expect(minted()).toBe(2); // the first token was rejected, its renewal accepted after both hops again
    expect(lookups).toEqual(['api']);
    await service.onApplicationShutdown();
  });

  it('axios: two redirects and a 401 retry, one lookup', async () => {
    const { service, source, lookups, minted } = setUp('axios');
    const instance = axios.create();
    new TokenHttpInterceptor({} as DiscoveryService, new TokenRequestAuthorizer(source)).instrument(instance);
    const response = await instance.get(`${origin}/start`, { token: 'api' });
    expect(response.status).toBe(200);
    expect(minted()).toBe(2);
    expect(lookups).toEqual(['api']);
    await service.onApplicationShutdown();
  });

  it('an unknown provider is refused with its name, before anything is sent', async () => {
    const { service, source } = setUp('unknown');
    await expect(createTokenFetch(source, 'nope')(`${origin}/end`)).rejects.toThrow('"nope"');
    await service.onApplicationShutdown();
  });
});
