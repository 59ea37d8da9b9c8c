/**
 * The `oauth2` strategy against independent servers:
 * - `@node-oauth/oauth2-server` (a real RFC 6749 implementation from npm) for client_secret_basic,
 *   client_secret_post, scopes, §5.2 errors and the refresh_token grant with rotation;
 * - a loopback endpoint verifying RFC 7523 `private_key_jwt` assertions with `jose.jwtVerify`
 *   (that library has no private_key_jwt support) for RS256, ES256 and EdDSA.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { TokenEndpointError } from '../libs/token/src/core/token.errors.js';
import type { TokenInfo } from '../libs/token/src/core/token-info.js';
import { startAssertionEndpoint, type AssertionEndpoint } from './support/oauth2-assertion-endpoint.js';
import { errorRenderings } from './support/oauth2-loopback-server.js';
import { startReferenceServer, type ReferenceServer } from './support/oauth2-reference-server.js';
import { rejection } from './support/rejection.js';

// That server compares secrets without form-decoding Basic credentials, so these use only characters
// form encoding leaves alone; the unit specs prove the §2.3.1 encoding of the others.
const SECRET = 'Cc-e2e-SECRET-canary.4b7f_x';
const REFRESHING_SECRET = 'Rr-e2e-SECRET-canary.91aa_y';

async function callResource(
  server: ReferenceServer,
  info: TokenInfo,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(server.resourceUrl, { headers: { authorization: info.authorizationHeader } });
  return { status: response.status, body: await response.json() };
}

describe('oauth2 strategy vs @node-oauth/oauth2-server', () => {
  let server: ReferenceServer;
  beforeAll(async () => {
    server = await startReferenceServer([
      { id: 'reports-service', secret: SECRET, scopes: ['read', 'write', 'admin'] },
      { id: 'sync-service', secret: REFRESHING_SECRET, scopes: ['sync'], refreshTokens: true },
    ]);
  });
  afterAll(() => server.close());

  const strategy = (extra: Partial<ConstructorParameters<typeof OAuth2Strategy>[0]> = {}) =>
    new OAuth2Strategy({
      tokenUrl: server.tokenUrl,
      clientId: 'reports-service',
      clientSecret: SECRET,
      ...extra,
    });

  it.each(['client_secret_basic', 'client_secret_post'] as const)(
    'client_credentials with %s: a token the server honours, with the granted scope and lifetime',
    async (clientAuth) => {
      const logStart = server.log.length;
      const info = await strategy({ clientAuth, scope: ['write', 'read'] }).generate();

      expect(server.log.slice(logStart)).toEqual([
        {
          grantType: 'client_credentials',
          clientAuth: clientAuth === 'client_secret_basic' ? 'basic' : 'post',
          refreshTokenSent: null,
          status: 200,
          error: undefined,
        },
      ]);
      expect(info.tokenType).toBe('Bearer');
      expect(info.extra.scope).toBe('write read');
      expect(info.extra.refresh_token).toBeUndefined();
      // The server said expires_in = 3600 (floored from its own clock).
      expect(info.expiresAt - info.issuedAt).toBeLessThanOrEqual(3_600_000);
      expect(info.expiresAt - info.issuedAt).toBeGreaterThan(3_500_000);
      await expect(callResource(server, info)).resolves.toEqual({
        status: 200,
        body: { client: 'reports-service', scope: ['write', 'read'] },
      });
    },
  );

  it.each([
    ['a wrong secret (basic)', { clientSecret: 'wrong-secret-value' }, 401, 'invalid_client'],
    [
      'a wrong secret (post)',
      { clientSecret: 'wrong-secret-value', clientAuth: 'client_secret_post' as const },
      400,
      'invalid_client',
    ],
    ['a scope the client may not have', { scope: 'delete' }, 400, 'invalid_scope'],
  ])(
    "§5.2: %s → TokenEndpointError with the server's error code, no secret",
    async (_label, extra, status, code) => {
      const error = await rejection(strategy(extra).generate());
      expect(error).toBeInstanceOf(TokenEndpointError);
      expect(error).toMatchObject({ status, error: code });
      for (const text of errorRenderings(error)) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain('wrong-secret-value');
      }
    },
  );

  describe('refresh_token grant (RFC 6749 §6)', () => {
    const refreshing = () =>
      new OAuth2Strategy({
        tokenUrl: server.tokenUrl,
        clientId: 'sync-service',
        clientSecret: REFRESHING_SECRET,
        scope: 'sync',
      });

    it('spends the issued refresh token, keeps the rotated one, and every token works', async () => {
      const logStart = server.log.length;
      const s = refreshing();
      const first = await s.generate();
      const second = await s.generate();
      const third = await s.generate();

      const log = server.log.slice(logStart);
      expect(log.map((e) => [e.grantType, e.clientAuth, e.status])).toEqual([
        ['client_credentials', 'basic', 200],
        ['refresh_token', 'basic', 200],
        ['refresh_token', 'basic', 200],
      ]);
      expect(log[1].refreshTokenSent).toBe(first.extra.refresh_token);
      expect(log[2].refreshTokenSent).toBe(second.extra.refresh_token);
      expect(second.extra.refresh_token).not.toBe(first.extra.refresh_token);
      // The server revoked each spent refresh token (rotation); only the newest is live.
      expect(server.liveRefreshTokens.has(first.extra.refresh_token as string)).toBe(false);
      expect(server.liveRefreshTokens.has(third.extra.refresh_token as string)).toBe(true);
      for (const info of [first, second, third]) {
        await expect(callResource(server, info)).resolves.toMatchObject({
          status: 200,
          body: { client: 'sync-service', scope: ['sync'] },
        });
      }
    });

    it('falls back to client credentials in the same call when the server refuses the refresh token', async () => {
      const s = refreshing();
      const first = await s.generate();
      server.liveRefreshTokens.delete(first.extra.refresh_token as string); // revoked or expired server-side
      const logStart = server.log.length;
      const next = await s.generate();

      expect(server.log.slice(logStart).map((e) => [e.grantType, e.status, e.error])).toEqual([
        ['refresh_token', 400, 'invalid_grant'],
        ['client_credentials', 200, undefined],
      ]);
      await expect(callResource(server, next)).resolves.toMatchObject({ status: 200 });
      // And the refresh token from that fallback grant is the one used next.
      await s.generate();
      expect(server.log.at(-1)).toMatchObject({
        grantType: 'refresh_token',
        refreshTokenSent: next.extra.refresh_token,
        status: 200,
      });
    });

    it('never spends one refresh token twice, however many generate() calls race', async () => {
      const s = refreshing();
      await s.generate();
      const logStart = server.log.length;
      const tokens = await Promise.all(Array.from({ length: 8 }, () => s.generate()));

      const log = server.log.slice(logStart);
      expect(log).toHaveLength(8);
      expect(log.every((e) => e.grantType === 'refresh_token' && e.status === 200)).toBe(true);
      expect(new Set(log.map((e) => e.refreshTokenSent)).size).toBe(8);
      expect(new Set(tokens.map((t) => t.token)).size).toBe(8);
    });
  });
});

describe('oauth2 strategy vs a private_key_jwt endpoint verifying with jose.jwtVerify', () => {
  let endpoint: AssertionEndpoint;
  const keys: Record<string, { privatePem: string; privateJwk: Record<string, unknown> }> = {};
  const algorithms = ['RS256', 'ES256', 'EdDSA'] as const;

  beforeAll(async () => {
    const clients = [];
    for (const algorithm of algorithms) {
      const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true });
      keys[algorithm] = {
        privatePem: await exportPKCS8(privateKey),
        privateJwk: { ...(await exportJWK(privateKey)) },
      };
      clients.push({ clientId: `client-${algorithm}`, publicKey, algorithm, keyId: `key-${algorithm}` });
    }
    endpoint = await startAssertionEndpoint(clients);
  });
  afterAll(() => endpoint.close());

  it.each(algorithms.flatMap((alg) => [[alg, 'PEM'] as const, [alg, 'JWK'] as const]))(
    '%s assertion from a %s key is accepted, every time with a fresh jti',
    async (algorithm, format) => {
      const s = new OAuth2Strategy({
        tokenUrl: endpoint.tokenUrl,
        clientId: `client-${algorithm}`,
        clientAuth: 'private_key_jwt',
        privateKey: format === 'PEM' ? keys[algorithm].privatePem : keys[algorithm].privateJwk,
        signingAlgorithm: algorithm,
        keyId: `key-${algorithm}`,
      });
      const rejectedBefore = endpoint.rejections.length;
      const tokens = await Promise.all([s.generate(), s.generate(), s.generate()]);
      expect(endpoint.rejections.slice(rejectedBefore)).toEqual([]);
      expect(tokens.map((t) => t.tokenType)).toEqual(['Bearer', 'Bearer', 'Bearer']);
    },
  );

  it('an assertion signed with the wrong key is refused: TokenEndpointError invalid_client, nothing leaked', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const s = new OAuth2Strategy({
      tokenUrl: endpoint.tokenUrl,
      clientId: 'client-ES256',
      clientAuth: 'private_key_jwt',
      privateKey: await exportPKCS8(privateKey),
      signingAlgorithm: 'ES256',
      keyId: 'key-ES256',
    });
    const error = await rejection(s.generate());
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 401, error: 'invalid_client' });
    expect(endpoint.rejections.at(-1)).toBe('assertion rejected: ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
    const assertion = endpoint.server.requests.at(-1)!.form.get('client_assertion')!;
    for (const text of errorRenderings(error)) expect(text).not.toContain(assertion);
  });

  it('an assertion for another endpoint (wrong aud) is refused', async () => {
    const s = new OAuth2Strategy({
      tokenUrl: `${endpoint.tokenUrl}?v=2`,
      clientId: 'client-RS256',
      clientAuth: 'private_key_jwt',
      privateKey: keys.RS256.privatePem,
      keyId: 'key-RS256',
    });
    await expect(s.generate()).rejects.toMatchObject({ status: 401, error: 'invalid_client' });
    expect(endpoint.rejections.at(-1)).toBe('assertion rejected: ERR_JWT_CLAIM_VALIDATION_FAILED');
  });
});
