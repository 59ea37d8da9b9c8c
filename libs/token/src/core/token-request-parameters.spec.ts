import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../testing-support/oauth2-loopback-server.js';
import { OAuth2Strategy } from '../strategies/oauth2/oauth2.strategy.js';
import { InvalidTokenOptionsError } from './token.errors.js';
import { TokenService } from '../module/token.service.js';
import type { TokenRequestParameters } from './token-strategy.interface.js';

// A per-call tenant is put into the token URL's path: it must be exactly one segment, or a caller
// (or whoever chose the tenant) can steer the client credentials to another endpoint of the server.
const SECRET = 'Tn-SECRET-canary-61e0';

let server: LoopbackServer;
let service: TokenService;
beforeAll(async () => {
  server = await startLoopbackServer((_request, response) =>
    sendJson(response, 200, { access_token: 'at-tenant', token_type: 'Bearer', expires_in: 3600 }),
  );
  service = new TokenService();
  service.register(
    'tenants',
    new OAuth2Strategy({
      tokenUrl: `${server.origin}/tenants/{tenant}/oauth2/token`,
      clientId: 'svc',
      clientSecret: SECRET,
    }),
  );
});
afterAll(async () => {
  await service.onApplicationShutdown();
  await server.close();
});

describe('per-call parameters are validated before any request', () => {
  it.each<[string, TokenRequestParameters, string]>([
    ['tenant ".."', { tenant: '..' }, 'tenant'],
    ['tenant "."', { tenant: '.' }, 'tenant'],
    ['tenant with "/"', { tenant: 'a/../b' }, 'tenant'],
    ['tenant with "\\"', { tenant: 'a\\b' }, 'tenant'],
    ['tenant "%2e%2e"', { tenant: '%2e%2e' }, 'tenant'],
    ['tenant "%2E"', { tenant: '%2E' }, 'tenant'],
    ['tenant with a newline', { tenant: 'a\nb' }, 'tenant'],
    ['tenant with a NUL', { tenant: 'a\u0000b' }, 'tenant'],
    ['tenant with "?"', { tenant: 'a?x=1' }, 'tenant'],
    ['tenant with "#"', { tenant: 'a#b' }, 'tenant'],
    ['empty tenant', { tenant: '' }, 'tenant'],
    ['tenant with a space', { tenant: 'a b' }, 'tenant'],
    ['tenant that is no string', { tenant: 7 as unknown as string }, 'tenant'],
    ['scope with CR/LF', { scope: 'read\r\nX-Injected: 1' }, 'scope'],
    ['scope with a quote', { scope: ['read', 'a"b'] }, 'scope'],
    ['audience with LF', { audience: 'api\nhttps://evil' }, 'audience'],
    ['audience with a control character', { audience: 'api\u0085' }, 'audience'],
    ['resource with CR', { resource: ['https://api.example.com\r'] }, 'resource'],
  ])('%s: a typed error naming the field, and no request', async (_case, parameters, field) => {
    const before = server.requests.length;
    const failure = await service.getToken('tenants', parameters).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidTokenOptionsError);
    expect((failure as InvalidTokenOptionsError).field).toBe(field);
    expect((failure as Error).message).toContain(`"${field}"`);
    expect(server.requests.length).toBe(before);
  });

  it.each(['contoso.onmicrosoft.com', '72f988bf-86f1-41af-91ab-2d7cd011db47', 'tenant_1~a', '...x'])(
    'tenant %p is one segment and reaches its own path',
    async (tenant) => {
      await service.getToken('tenants', { tenant });
      expect(server.requests.at(-1)!.path).toBe(`/tenants/${tenant}/oauth2/token`);
    },
  );

  it('an empty per-call scope asks for nothing more than the provider itself', async () => {
    const service = new TokenService();
    service.register(
      'plain',
      new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: 'svc', clientSecret: SECRET }),
    );
    const base = await service.getToken('plain');
    expect(await service.getToken('plain', { scope: [] })).toBe(base);
    await service.onApplicationShutdown();
  });

  it('a configured tenant follows the same rule', () => {
    const build = (tenant: string) =>
      new OAuth2Strategy({
        tokenUrl: `${server.origin}/tenants/{tenant}/oauth2/token`,
        clientId: 'svc',
        clientSecret: SECRET,
        tenant,
      });
    expect(() => build('..')).toThrow(InvalidTokenOptionsError);
    expect(() => build('a/b')).toThrow(/"tenant"/);
    expect(() => build('contoso')).not.toThrow();
  });
});
