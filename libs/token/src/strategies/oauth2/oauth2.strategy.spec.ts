import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import {
  decodeBasic,
  errorRenderings,
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
  type RecordedRequest,
} from '../../testing-support/oauth2-loopback-server.js';
import { ManualClock } from '../../core/clock.js';
import {
  InvalidTokenOptionsError,
  TokenEndpointError,
  TokenError,
  TokenRequestError,
  TokenResponseError,
} from '../../core/token.errors.js';
import { oauth2CacheKey } from '../../core/oauth2-cache-key.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import { rejection } from '../../testing-support/rejection.js';

/** Distinctive, with characters that form encoding changes, so every encoding of it is exercised. */
const SECRET = 'Sx~9f3:Q+z/SECRET%é leak-canary';
const NOW = 1_700_000_000_000;

let server: LoopbackServer;
let clock: ManualClock;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  clock = new ManualClock(NOW);
});

const strategy = (extra: Partial<ConstructorParameters<typeof OAuth2Strategy>[0]> = {}) =>
  new OAuth2Strategy(
    { tokenUrl: server.tokenUrl, clientId: 'svc client', clientSecret: SECRET, ...extra },
    clock,
  );

/** A §6-following stub: issues and rotates refresh tokens, refuses any it has seen spent. */
function refreshingEndpoint(options: { rotate?: boolean } = {}) {
  let issued = 0;
  const live = new Set<string>();
  const spent: string[] = [];
  const handler = (req: RecordedRequest, res: Parameters<Parameters<LoopbackServer['handle']>[0]>[1]) => {
    const grant = req.form.get('grant_type');
    if (grant === 'refresh_token') {
      const rt = req.form.get('refresh_token') ?? '';
      spent.push(rt);
      if (!live.has(rt))
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'refresh token is invalid' });
      if (options.rotate !== false) live.delete(rt);
    }
    issued++;
    const body: Record<string, unknown> = {
      access_token: `at-${issued}`,
      token_type: 'bearer',
      expires_in: 60,
    };
    if (grant === 'client_credentials' || options.rotate !== false) {
      body.refresh_token = `rt-${issued}`;
      live.add(`rt-${issued}`);
    }
    sendJson(res, 200, body);
  };
  return { handler, live, spent };
}

describe('OAuth2Strategy: client-credentials request', () => {
  it('client_secret_basic: form body with scope, audience, resources, extra params; form-encoded Basic credentials', async () => {
    server.handle((_req, res) => {
      clock.advance(250); // the answer arrives later than the request left
      sendJson(res, 200, {
        access_token: 'at-1',
        token_type: 'bearer',
        expires_in: 120,
        scope: 'read write',
      });
    });
    const info = await strategy({
      scope: ['write', 'read'],
      audience: 'https://api.example.com',
      resource: ['https://api.example.com', 'https://files.example.com'],
      extraParams: { tenant: 'acme' },
    }).generate();

    const [req] = server.requests;
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect([...req.form.entries()]).toEqual([
      ['grant_type', 'client_credentials'],
      ['scope', 'write read'],
      ['resource', 'https://api.example.com'],
      ['resource', 'https://files.example.com'],
      ['audience', 'https://api.example.com'],
      ['tenant', 'acme'],
    ]);
    expect(decodeBasic(req.headers.authorization)).toEqual({ clientId: 'svc client', clientSecret: SECRET });
    expect(Buffer.from(req.headers.authorization!.slice(6), 'base64').toString()).toBe(
      'svc+client:Sx%7E9f3%3AQ%2Bz%2FSECRET%25%C3%A9+leak-canary',
    );
    expect(info).toMatchObject({
      token: 'at-1',
      tokenType: 'Bearer',
      issuedAt: NOW + 250,
      expiresAt: NOW + 250 + 120_000,
    });
    expect(info.extra).toEqual({ scope: 'read write' });
  });

  it('client_secret_post: id and secret in the body, no Authorization header', async () => {
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at', expires_in: 60 }));
    await strategy({ clientAuth: 'client_secret_post', scope: 'a' }).generate();
    const [req] = server.requests;
    expect(req.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(req.form)).toEqual({
      grant_type: 'client_credentials',
      scope: 'a',
      client_id: 'svc client',
      client_secret: SECRET,
    });
  });

  it('private_key_jwt: an assertion instead of a secret', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at', expires_in: 60 }));
    await new OAuth2Strategy(
      {
        tokenUrl: server.tokenUrl,
        clientId: 'svc',
        clientAuth: 'private_key_jwt',
        privateKey: await exportPKCS8(privateKey),
        signingAlgorithm: 'ES256',
      },
      clock,
    ).generate();
    const [req] = server.requests;
    expect(req.headers.authorization).toBeUndefined();
    expect(req.form.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    expect(req.form.get('client_assertion')?.split('.')).toHaveLength(3);
    expect(req.form.has('client_secret')).toBe(false);
  });

  it.each([
    [
      400,
      { error: 'invalid_client', error_description: 'unknown client' },
      TokenEndpointError,
      'token endpoint returned 400 invalid_client: unknown client',
    ],
    [200, { error: 'access_denied' }, TokenEndpointError, 'token endpoint returned 200 access_denied'],
    [200, '<html/>', TokenResponseError, 'token endpoint answered 200 with a body that is not a JSON object'],
    [
      302,
      '',
      TokenRequestError,
      'token endpoint redirected (302); redirects are not followed, check "tokenUrl"',
    ],
  ] as const)('status %p body %p → %p', async (status, body, errorClass, message) => {
    server.handle((_req, res) => sendJson(res, status, body));
    const error = await rejection(strategy().generate());
    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).toBe(message);
  });

  it('applies timeoutMs and maxResponseBytes', async () => {
    server.handle(() => undefined);
    expect((await rejection(strategy({ timeoutMs: 30 }).generate())).message).toMatch(
      /timed out after 30 ms/,
    );
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'x'.repeat(200) }));
    expect((await rejection(strategy({ maxResponseBytes: 100 }).generate())).message).toMatch(
      /exceeds 100 bytes/,
    );
  });

  it('uses defaultExpiresInSeconds when the server gives no lifetime', async () => {
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'opaque' }));
    expect((await strategy({ defaultExpiresInSeconds: 90 }).generate()).expiresAt).toBe(NOW + 90_000);
    expect((await strategy().generate()).expiresAt).toBe(NOW + 3_600_000);
  });
});

describe('OAuth2Strategy: configuration', () => {
  it('refuses plain http to a remote host unless allowInsecureHttp, naming the field only', () => {
    const build = (extra: object) => () =>
      new OAuth2Strategy(
        {
          tokenUrl: `http://auth.example.com/token?k=${SECRET}`,
          clientId: 'svc',
          clientSecret: SECRET,
          ...extra,
        },
        clock,
      );
    expect(build({})).toThrow(InvalidTokenOptionsError);
    expect(build({})).toThrow('oauth2 strategy: "tokenUrl" must use https');
    try {
      build({})();
    } catch (error) {
      expect(error).toMatchObject({ field: 'tokenUrl' });
      for (const text of errorRenderings(error)) expect(text).not.toContain(SECRET);
    }
    expect(build({ allowInsecureHttp: true })).not.toThrow();
  });

  it('requires the credential the auth method needs', () => {
    expect(() => new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: 'svc' })).toThrow(
      'oauth2 strategy: "clientSecret" is required for client_secret_basic',
    );
    expect(
      () =>
        new OAuth2Strategy({
          tokenUrl: server.tokenUrl,
          clientId: 'svc',
          clientAuth: 'private_key_jwt',
          clientSecret: 's',
        }),
    ).toThrow('oauth2 strategy: "privateKey" is required for private_key_jwt');
  });

  it('validates with the provider schema, so run-time registration gets the module-config checks', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)) };
    const cases: Array<[string, Partial<ConstructorParameters<typeof OAuth2Strategy>[0]>]> = [
      ['extraParams.client_secret', { extraParams: { client_secret: 'x' } }],
      ['privateKey', { clientAuth: 'private_key_jwt', privateKey: 'not-a-pem-keymaterial' }],
      ['privateKey', { clientAuth: 'private_key_jwt', privateKey: publicJwk }],
      ['signingAlgorithm', { signingAlgorithm: 'HS256' as never }],
      ['scope', { scope: [] }],
      ['timeoutMs', { timeoutMs: -1 }],
      ['clientsecret', { clientsecret: 'typo' } as never], // an unknown option is named
    ];
    for (const [field, extra] of cases) {
      let error: unknown;
      try {
        strategy(extra);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect((error as InvalidTokenOptionsError).field).toBe(field || undefined);
      expect((error as Error).message).toMatch(/^oauth2 strategy: /);
      for (const text of errorRenderings(error)) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain('keymaterial');
      }
    }
    expect(
      () => new OAuth2Strategy({ tokenUrl: 'not a url', clientId: 'svc', clientSecret: SECRET }),
    ).toThrow(expect.objectContaining({ field: 'tokenUrl' }));
  });

  it('per-call parameters are validated too', () => {
    expect(() => strategy().withParameters({ resource: [''] })).toThrow(
      expect.objectContaining({ name: 'InvalidTokenOptionsError', field: 'resource.0' }),
    );
  });

  it('has the shared cache key: scope order does not matter, scope does, the secret never shows', () => {
    const a = strategy({ scope: 'read write' });
    expect(a.cacheKey).toBe(
      oauth2CacheKey({ tokenUrl: server.tokenUrl, clientId: 'svc client', scope: 'read write' }),
    );
    expect(a.cacheKey).toBe(strategy({ scope: ['write', 'read'] }).cacheKey);
    expect(a.cacheKey).not.toBe(strategy({ scope: 'read' }).cacheKey);
    expect(a.cacheKey).not.toContain(SECRET);
    expect(a.cacheKey).toBe(strategy({ scope: 'read write', clientSecret: 'another-secret' }).cacheKey);
  });
});

describe('OAuth2Strategy: refresh tokens (RFC 6749 §6)', () => {
  it('spends the refresh token next time, with the same client auth and scope, and keeps the rotated one', async () => {
    const endpoint = refreshingEndpoint();
    server.handle(endpoint.handler);
    const s = strategy({ scope: 'read', audience: 'aud', extraParams: { tenant: 'acme' } });
    const first = await s.generate();
    const second = await s.generate();
    const third = await s.generate();
    expect([first.token, second.token, third.token]).toEqual(['at-1', 'at-2', 'at-3']);
    expect(first.extra.refresh_token).toBe('rt-1');
    const [, refresh1, refresh2] = server.requests;
    expect(Object.fromEntries(refresh1.form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt-1',
      scope: 'read',
    });
    expect(decodeBasic(refresh1.headers.authorization)).toEqual({
      clientId: 'svc client',
      clientSecret: SECRET,
    });
    expect(refresh2.form.get('refresh_token')).toBe('rt-2');
    expect(endpoint.spent).toEqual(['rt-1', 'rt-2']);
  });

  it('keeps the old refresh token when the server does not rotate it', async () => {
    const endpoint = refreshingEndpoint({ rotate: false });
    server.handle(endpoint.handler);
    const s = strategy();
    await s.generate();
    await s.generate();
    await s.generate();
    expect(endpoint.spent).toEqual(['rt-1', 'rt-1']);
  });

  it.each([
    ['invalid_grant', 400, { error: 'invalid_grant' }],
    ['a 401', 401, { error: 'invalid_client' }],
    ['a 400 without a body', 400, ''],
    ['a 200 carrying invalid_grant', 200, { error: 'invalid_grant' }],
  ])(
    'on %s drops the refresh token and falls back to client credentials in the same call',
    async (_label, status, body) => {
      const endpoint = refreshingEndpoint();
      server.handle(endpoint.handler);
      const s = strategy();
      await s.generate();
      server.handle((req, res) =>
        req.form.get('grant_type') === 'refresh_token'
          ? sendJson(res, status, body)
          : endpoint.handler(req, res),
      );
      const info = await s.generate();
      expect(info.token).toBe('at-2');
      expect(server.requests.map((r) => r.form.get('grant_type'))).toEqual([
        'client_credentials',
        'refresh_token',
        'client_credentials',
      ]);
      // The new client-credentials answer's refresh token is the one used next.
      server.handle(endpoint.handler);
      await s.generate();
      expect(server.requests[3].form.get('refresh_token')).toBe('rt-2');
    },
  );

  it('keeps the refresh token (and throws) when the endpoint fails for another reason, after trying client credentials', async () => {
    const endpoint = refreshingEndpoint();
    server.handle(endpoint.handler);
    const s = strategy();
    await s.generate();
    server.handle((_req, res) => sendJson(res, 503, { error: 'temporarily_unavailable' }));
    const error = await rejection(s.generate());
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(server.requests.map((r) => r.form.get('grant_type'))).toEqual([
      'client_credentials',
      'refresh_token',
      'client_credentials',
    ]);
    server.handle(endpoint.handler);
    await s.generate();
    expect(server.requests[3].form.get('refresh_token')).toBe('rt-1');
  });

  it('never spends one refresh token twice under concurrent generate() calls', async () => {
    const endpoint = refreshingEndpoint();
    server.handle(endpoint.handler);
    const s = strategy();
    await s.generate();
    const results = await Promise.all(Array.from({ length: 10 }, () => s.generate()));
    expect(new Set(results.map((r) => r.token)).size).toBe(10);
    expect(endpoint.spent).toHaveLength(10);
    expect(new Set(endpoint.spent).size).toBe(10);
    // Every call was a successful refresh: no invalid_grant, no fallback.
    expect(server.requests.filter((r) => r.form.get('grant_type') === 'client_credentials')).toHaveLength(1);
  });

  it('with useRefreshToken: false, always uses client credentials', async () => {
    const endpoint = refreshingEndpoint();
    server.handle(endpoint.handler);
    const s = strategy({ useRefreshToken: false });
    await Promise.all([s.generate(), s.generate()]);
    await s.generate();
    expect(server.requests.map((r) => r.form.get('grant_type'))).toEqual([
      'client_credentials',
      'client_credentials',
      'client_credentials',
    ]);
  });
});

describe('OAuth2Strategy: no secret in any error', () => {
  /** A hostile endpoint: echoes the whole request (headers, body) in its error answer. */
  const echo =
    (status: number, contentType = 'application/json') =>
    (req: RecordedRequest, res: Parameters<Parameters<LoopbackServer['handle']>[0]>[1]) => {
      const dump = JSON.stringify({
        headers: req.headers,
        body: req.body,
        form: Object.fromEntries(req.form),
      });
      res.writeHead(status, { 'content-type': contentType });
      res.end(
        JSON.stringify({
          error: 'invalid_request',
          error_description: `you sent ${dump}`,
          echo: dump,
          raw: req.body,
        }),
      );
    };

  it.each([
    ['basic, 400 echo', {}, echo(400)],
    ['post, 401 echo', { clientAuth: 'client_secret_post' as const }, echo(401)],
    ['post, 200 echo with an error field', { clientAuth: 'client_secret_post' as const }, echo(200)],
    ['post, 500 text echo', { clientAuth: 'client_secret_post' as const }, echo(500, 'text/plain')],
    ['post, 200 wrong content-type', { clientAuth: 'client_secret_post' as const }, echo(200, 'text/plain')],
  ])('%s', async (_label, extra, handler) => {
    server.handle(handler);
    const error = await rejection(strategy(extra).generate());
    expect(error).toBeInstanceOf(TokenError);
    for (const text of errorRenderings(error)) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(encodeURIComponent(SECRET));
      expect(text).not.toContain(new URLSearchParams({ s: SECRET }).toString().slice(2));
      expect(text).not.toContain(server.requests[0].headers.authorization?.slice(6) ?? '\u0000');
    }
  });

  it('redacts the refresh token and the client assertion', async () => {
    const endpoint = refreshingEndpoint();
    server.handle(endpoint.handler);
    const s = strategy();
    await s.generate();
    server.handle(echo(503));
    const error = await rejection(s.generate());
    for (const text of errorRenderings(error)) expect(text).not.toContain('rt-1');

    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    server.requests.length = 0;
    const jwtClient = new OAuth2Strategy(
      {
        tokenUrl: server.tokenUrl,
        clientId: 'svc',
        clientAuth: 'private_key_jwt',
        privateKey: await exportPKCS8(privateKey),
      },
      clock,
    );
    const assertionError = await rejection(jwtClient.generate());
    const assertion = server.requests[0].form.get('client_assertion')!;
    expect(assertion.length).toBeGreaterThan(100);
    for (const text of errorRenderings(assertionError)) {
      expect(text).not.toContain(assertion);
      expect(text).not.toContain(assertion.split('.')[2]);
    }
  });
});
