import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InvalidTokenOptionsError, OAuth2Strategy, TokenAcquisitionError, TokenService } from '@app/token';
import { sendJson, startLoopbackServer, type LoopbackServer } from './support/oauth2-loopback-server.js';

const CLIENT_SECRET = 'client-secret-zz-9191';

// Per-call scope, audience, resource and tenant (issue 5): each combination is its own cached token,
// requested with exactly those parameters; the scope order does not matter.
describe('per-call token parameters through TokenService and a real token endpoint', () => {
  let server: LoopbackServer;
  let service: TokenService;

  beforeAll(async () => {
    server = await startLoopbackServer((request, response) =>
      sendJson(response, 200, {
        access_token: `at-${randomUUID()}`,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: request.form.get('scope') ?? '',
      }),
    );
    service = new TokenService();
    service.register(
      'graph',
      new OAuth2Strategy({
        tokenUrl: server.tokenUrl,
        clientId: 'svc',
        clientSecret: CLIENT_SECRET,
        scope: 'base',
      }),
    );
    service.register(
      'tenanted',
      new OAuth2Strategy({
        tokenUrl: `${server.origin}/{tenant}/token`,
        clientId: 'svc',
        clientSecret: CLIENT_SECRET,
        tenant: 'home',
      }),
    );
  });
  afterAll(async () => {
    await service.onApplicationShutdown();
    await server.close();
  });

  it('two calls differing only in scope never share a token; scope order does not matter', async () => {
    const base = await service.getToken('graph');
    const mail = await service.getToken('graph', { scope: ['Mail.Read', 'User.Read'] });
    const mailAgain = await service.getToken('graph', { scope: 'User.Read Mail.Read' });
    const files = await service.getToken('graph', { scope: ['Files.Read'] });

    expect(new Set([base.token, mail.token, files.token]).size).toBe(3);
    expect(mailAgain).toBe(mail);
    const scopesSent = server.requests.map((r) => r.form.get('scope'));
    expect(scopesSent).toEqual(['base', 'Mail.Read User.Read', 'Files.Read']);
    expect(Object.keys(service.getStats().tokens)).toEqual(
      expect.arrayContaining(['graph', 'graph (scope=Files.Read)', 'graph (scope=Mail.Read User.Read)']),
    );
  });

  it('audience and resource are parameters of the variant too', async () => {
    const before = server.requests.length;
    const a = await service.getToken('graph', {
      audience: 'https://api.a',
      resource: ['https://r2', 'https://r1'],
    });
    const b = await service.getToken('graph', {
      audience: 'https://api.a',
      resource: ['https://r1', 'https://r2'],
    });
    expect(b).toBe(a);
    const sent = server.requests[before].form;
    expect(sent.get('audience')).toBe('https://api.a');
    expect(sent.getAll('resource')).toEqual(['https://r2', 'https://r1']);
  });

  it('a tenant fills the {tenant} placeholder of the token URL', async () => {
    await service.getToken('tenanted');
    await service.getToken('tenanted', { tenant: 'contoso' });
    const paths = server.requests.slice(-2).map((r) => r.path);
    expect(paths).toEqual(['/home/token', '/contoso/token']);
    // A tenant is one path segment: "a/b" is refused before any request, not encoded into one.
    const before = server.requests.length;
    await expect(service.getToken('tenanted', { tenant: 'a/b' })).rejects.toMatchObject({
      name: 'InvalidTokenOptionsError',
      field: 'tenant',
    });
    expect(server.requests.length).toBe(before);
  });

  it('invalidate drops the variants too; onlyIfToken drops just the one that was rejected', async () => {
    const mail = await service.getToken('graph', { scope: 'Mail.Read' });
    const base = await service.getToken('graph');
    expect(await service.invalidate('graph', { onlyIfToken: mail.token })).toBe(true);
    expect(service.getTokenInfo('graph')).toBe(base);
    await service.invalidate('graph');
    expect(service.getStats().tokens['graph (scope=Files.Read)'].cached).toBe(false);
  });

  it('forceRefresh works per variant', async () => {
    const first = await service.getToken('graph', { scope: 'Mail.Send' });
    const second = await service.getToken('graph', { scope: 'Mail.Send', forceRefresh: true });
    expect(second.token).not.toBe(first.token);
  });

  it('a provider whose strategy takes no parameters says so', async () => {
    service.register('fixed', {
      cacheKey: 'fixed',
      generate: async () => ({ token: 't', expiresAt: Date.now() + 1e6 }) as never,
    });
    const error = await service.getToken('fixed', { scope: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect((error as Error).message).toContain('"fixed"');
  });

  it('a {tenant} URL without a tenant fails with a clear error', async () => {
    service.register(
      'no-tenant',
      new OAuth2Strategy({
        tokenUrl: `${server.origin}/{tenant}/token`,
        clientId: 'svc',
        clientSecret: CLIENT_SECRET,
      }),
    );
    const error = await service.getToken('no-tenant').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenAcquisitionError);
    expect((error as Error).message).toMatch(/"tenant" is required/);
    await expect(service.getToken('no-tenant', { tenant: 't1' })).resolves.toMatchObject({
      provider: 'no-tenant (tenant=t1)',
    });
  });

  it('a tenant for a URL without placeholder is refused', () => {
    expect(
      () =>
        new OAuth2Strategy({
          tokenUrl: server.tokenUrl,
          clientId: 'svc',
          clientSecret: CLIENT_SECRET,
          tenant: 'x',
        }),
    ).toThrow(/placeholder/);
  });
});
