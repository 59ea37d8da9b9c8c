import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ServerResponse } from 'node:http';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
  type RecordedRequest,
} from '../../testing-support/oauth2-loopback-server.js';
import { rejection } from '../../testing-support/rejection.js';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError, TokenRequestError } from '../../core/token.errors.js';
import { OAuth2Discovery, selectClientAuth, type AuthorizationServerMetadata } from './oauth2-discovery.js';

let server: LoopbackServer;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());

/** Serves `document` (a function of the issuer) at `where` ('oidc', 'rfc8414'), 404 elsewhere. */
function serve(
  where: 'oidc' | 'rfc8414',
  document: (issuer: string) => unknown,
  send: (res: ServerResponse, body: unknown) => void = (res, body) => sendJson(res, 200, body),
) {
  server.handle((request: RecordedRequest, res) => {
    const oidc = request.path.endsWith('/.well-known/openid-configuration');
    const rfc = request.path.startsWith('/.well-known/oauth-authorization-server');
    if ((where === 'oidc' && oidc) || (where === 'rfc8414' && rfc)) {
      const path = oidc
        ? request.path.replace('/.well-known/openid-configuration', '')
        : request.path.slice(39);
      send(res, document(`${server.origin}${path}`));
    } else sendJson(res, 404, {});
  });
}

const good = (issuer: string) => ({
  issuer,
  token_endpoint: `${server.origin}/token`,
  token_endpoint_auth_methods_supported: ['client_secret_post'],
  dpop_signing_alg_values_supported: ['ES256'],
  grant_types_supported: ['client_credentials', 7],
  mtls_endpoint_aliases: { token_endpoint: `${server.origin}/mtls/token` },
  extra: 'ignored',
});

describe('OAuth2Discovery', () => {
  it.each([
    ['oidc', ''],
    ['oidc', '/tenant-a'],
    ['rfc8414', ''],
    ['rfc8414', '/tenant-a'],
  ] as const)('reads the %s location for an issuer with path %j', async (where, path) => {
    serve(where, good);
    const before = server.requests.length;
    const discovery = new OAuth2Discovery(`${server.origin}${path}`, {}, false, new ManualClock());
    await expect(discovery.metadata()).resolves.toEqual({
      issuer: `${server.origin}${path}`,
      token_endpoint: `${server.origin}/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      dpop_signing_alg_values_supported: ['ES256'],
      grant_types_supported: undefined,
      mtls_endpoint_aliases: { token_endpoint: `${server.origin}/mtls/token` },
    });
    const paths = server.requests.slice(before).map((request) => request.path);
    expect(paths[0]).toBe(`${path}/.well-known/openid-configuration`);
    if (where === 'rfc8414') expect(paths[1]).toBe(`/.well-known/oauth-authorization-server${path}`);
    expect(paths).toHaveLength(where === 'oidc' ? 1 : 2);
    expect(server.requests.at(-1)!.headers.accept).toBe('application/json');
  });

  it('an issuer with a trailing slash looks under its path without it', async () => {
    serve('oidc', good);
    const before = server.requests.length;
    const discovery = new OAuth2Discovery(`${server.origin}/t/`, {}, false, new ManualClock());
    // The document says `${origin}/t`, not the configured `${origin}/t/`: refused, but asked at the right place.
    await rejection(discovery.metadata());
    expect(server.requests[before].path).toBe('/t/.well-known/openid-configuration');
  });

  it.each<[string, (issuer: string) => unknown, RegExp]>([
    [
      'another issuer',
      (issuer) => ({ ...good(issuer), issuer: `${issuer}/other` }),
      /"issuer" does not match/,
    ],
    ['no token endpoint', (issuer) => ({ issuer }), /"token_endpoint" is missing/],
    [
      'a plain-http token endpoint off loopback',
      (issuer) => ({ issuer, token_endpoint: 'http://idp.example/token' }),
      /"token_endpoint" must use https/,
    ],
    [
      'a bad mTLS alias',
      (issuer) => ({ ...good(issuer), mtls_endpoint_aliases: { token_endpoint: 42 } }),
      /"mtls_endpoint_aliases.token_endpoint" is missing/,
    ],
    [
      'an insecure mTLS alias',
      (issuer) => ({ ...good(issuer), mtls_endpoint_aliases: { token_endpoint: 'http://idp.example/t' } }),
      /"mtls_endpoint_aliases.token_endpoint" must use https/,
    ],
  ])('refuses metadata with %s', async (_case, document, message) => {
    serve('oidc', document);
    const error = await rejection(
      new OAuth2Discovery(server.origin, {}, false, new ManualClock()).metadata(),
    );
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`discovery of issuer ${server.origin}/ failed`);
  });

  it('allows a plain-http endpoint off loopback with allowInsecureHttp', async () => {
    serve('oidc', (issuer) => ({ issuer, token_endpoint: 'http://idp.example/token' }));
    const discovery = new OAuth2Discovery(server.origin, {}, true, new ManualClock());
    await expect(discovery.metadata()).resolves.toMatchObject({
      token_endpoint: 'http://idp.example/token',
      mtls_endpoint_aliases: undefined,
    });
  });

  it.each<[string, (res: ServerResponse) => void, RegExp]>([
    ['404 at both locations', (res) => sendJson(res, 404, {}), /no metadata at either well-known location/],
    ['a 500', (res) => sendJson(res, 500, {}), /answered 500/],
    ['a redirect', (res) => sendJson(res, 302, {}, { location: '/elsewhere' }), /answered 302/],
    ['text', (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('{}'), /is not JSON/],
    ['an array', (res) => sendJson(res, 200, []), /not a JSON object/],
    ['null', (res) => sendJson(res, 200, 'null'), /not a JSON object/],
    ['broken JSON', (res) => sendJson(res, 200, '{"issuer"'), /not a JSON object/],
    [
      'a declared length past 256 KiB',
      (res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': 262_145 }).end(),
      /too large/,
    ],
    [
      'a body past 256 KiB',
      (res) => sendJson(res, 200, `"${'x'.repeat(262_144)}"`, { 'transfer-encoding': 'chunked' }),
      /unreadable/,
    ],
  ])('fails on %s', async (_case, answer, message) => {
    server.handle((_request, res) => answer(res));
    const error = await rejection(
      new OAuth2Discovery(server.origin, {}, false, new ManualClock()).metadata(),
    );
    expect(error).toBeInstanceOf(TokenRequestError);
    expect((error as Error).message).toMatch(message);
  });

  it('fails on an issuer nobody answers for, naming the network error', async () => {
    const closed = await startLoopbackServer();
    await closed.close();
    const error = await rejection(
      new OAuth2Discovery(closed.origin, {}, false, new ManualClock()).metadata(),
    );
    expect((error as Error).message).toMatch(/failed: ECONNREFUSED/);
  });

  it('caches for ttlMs, shares one fetch, and backs off after a failure (1 s doubling, capped)', async () => {
    const clock = new ManualClock(1_000_000);
    let fail = false;
    server.handle((request, res) => {
      if (fail) sendJson(res, 500, {});
      else if (request.path.endsWith('openid-configuration')) sendJson(res, 200, good(server.origin));
      else sendJson(res, 404, {});
    });
    const discovery = new OAuth2Discovery(
      server.origin,
      { ttlMs: 10_000, maxRetryDelayMs: 3_000 },
      false,
      clock,
    );
    const count = () => server.requests.length;
    const start = count();
    const [a, b] = await Promise.all([discovery.metadata(), discovery.metadata()]);
    expect(a).toBe(b);
    expect(count() - start).toBe(1);
    clock.advance(9_999);
    expect(await discovery.metadata()).toBe(a); // still fresh
    expect(count() - start).toBe(1);
    clock.advance(1);
    fail = true;
    expect(await discovery.metadata()).toBe(a); // stale beats none
    expect(count() - start).toBe(2);
    clock.advance(999);
    expect(await discovery.metadata()).toBe(a); // backing off: no fetch
    expect(count() - start).toBe(2);
    clock.advance(1);
    await discovery.metadata(); // 1 s later: tries again, fails, waits 2 s
    expect(count() - start).toBe(3);
    clock.advance(1_999);
    await discovery.metadata();
    expect(count() - start).toBe(3);
    clock.advance(1);
    await discovery.metadata(); // then 4 s, capped at 3 s
    expect(count() - start).toBe(4);
    clock.advance(2_999);
    await discovery.metadata();
    expect(count() - start).toBe(4);
    clock.advance(1);
    fail = false;
    const fresh = await discovery.metadata();
    expect(count() - start).toBe(5);
    expect(fresh).not.toBe(a);
    expect(fresh).toEqual(a);
  });

  it('without a document yet, callers during the backoff get the failure at once', async () => {
    const clock = new ManualClock(1_000_000);
    server.handle((_request, res) => sendJson(res, 503, {}));
    const discovery = new OAuth2Discovery(server.origin, {}, false, clock);
    const start = server.requests.length;
    const first = await rejection(discovery.metadata());
    clock.advance(999);
    expect(await rejection(discovery.metadata())).toBe(first);
    expect(server.requests.length - start).toBe(1);
  });

  it('warmUp resolves with the error and retries in the background until closed', async () => {
    server.handle((_request, res) => sendJson(res, 503, {}));
    const discovery = new OAuth2Discovery(server.origin, {}, false, new ManualClock());
    const error = await discovery.warmUp();
    expect(error).toBeInstanceOf(TokenRequestError);
    discovery.close();
    serve('oidc', good);
    await expect(
      new OAuth2Discovery(server.origin, {}, false, new ManualClock()).warmUp(),
    ).resolves.toBeUndefined();
  });
});

describe('selectClientAuth', () => {
  const metadata = (methods?: string[]): AuthorizationServerMetadata => ({
    issuer: 'https://idp.example',
    token_endpoint: 'https://idp.example/token',
    token_endpoint_auth_methods_supported: methods,
  });

  it.each<[Parameters<typeof selectClientAuth>[0], string[] | undefined, string]>([
    [{ clientSecret: 's' }, undefined, 'client_secret_basic'],
    [{ clientSecret: 's' }, ['client_secret_basic', 'client_secret_post'], 'client_secret_basic'],
    [{ clientSecret: 's' }, ['client_secret_post'], 'client_secret_post'],
    [{ clientSecret: 's' }, ['private_key_jwt'], 'client_secret_basic'],
    [{ privateKey: 'k' }, undefined, 'private_key_jwt'],
    [{ privateKey: 'k', clientSecret: 's' }, ['client_secret_post'], 'client_secret_post'],
    [{ clientAuth: 'client_secret_post', clientSecret: 's' }, undefined, 'client_secret_post'],
    [{ clientAuth: 'private_key_jwt', privateKey: 'k' }, ['private_key_jwt'], 'private_key_jwt'],
  ])('%j with %j → %s', (config, methods, expected) => {
    expect(selectClientAuth(config, metadata(methods))).toBe(expected);
  });

  it('refuses a configured method the issuer does not list, naming the field', () => {
    const select = () =>
      selectClientAuth({ clientAuth: 'client_secret_post' }, metadata(['client_secret_basic']));
    expect(select).toThrow(InvalidTokenOptionsError);
    expect(select).toThrow(/"clientAuth" client_secret_post is not in/);
  });
});
