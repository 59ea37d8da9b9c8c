import { describe, expect, it, jest } from '@jest/globals';
import { decodeJwt } from 'jose';
import {
  sendJson,
  withLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { rejection } from '../../testing-support/rejection.js';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { OAuth2Discovery } from './oauth2-discovery.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

const NOW = 1_700_000_000_000;
const SECRET = 'client-secret-zz-9191';

let server: LoopbackServer;
let clock: ManualClock;
withLoopbackServer(NOW, (started, fresh) => {
  server = started;
  clock = fresh;
});

/**
 * An issuer on the loopback server: its OpenID configuration (under any path) names `/as/token`,
 * which issues tokens of `tokenType`.
 */
function serveIssuer(issuer: string, metadata: Record<string, unknown> = {}, tokenType = 'Bearer') {
  let issued = 0;
  server.handle((req, res) => {
    if (req.method === 'GET' && req.path.endsWith('/.well-known/openid-configuration')) {
      return sendJson(res, 200, { issuer, token_endpoint: `${server.origin}/as/token`, ...metadata });
    }
    if (req.method === 'POST' && req.path === '/as/token') {
      return sendJson(res, 200, { access_token: `at-${++issued}`, token_type: tokenType, expires_in: 60 });
    }
    sendJson(res, 404, {});
  });
}
const issuerStrategy = (issuer: string, extra: object = {}) =>
  new OAuth2Strategy({ issuer, clientId: 'svc', clientSecret: SECRET, ...extra }, clock);
const requestLine = () => server.requests.map((r) => `${r.method} ${r.path}`);

describe('OAuth2Strategy with issuer', () => {
  it("posts to the token endpoint the issuer's metadata names, with the auth method it lists", async () => {
    serveIssuer(server.origin, {
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      dpop_signing_alg_values_supported: ['ES256'],
    });
    const s = issuerStrategy(server.origin);
    expect(s.discovery).toBeInstanceOf(OAuth2Discovery);
    expect(s.cacheKey.startsWith(`oauth2:${server.origin}/:svc:`)).toBe(true);
    const info = await s.generate();
    expect(info).toMatchObject({ token: 'at-1', tokenType: 'Bearer', expiresAt: NOW + 60_000 });
    expect(requestLine()).toEqual(['GET /.well-known/openid-configuration', 'POST /as/token']);
    expect(Object.fromEntries(server.requests[1].form)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'svc',
      client_secret: SECRET,
    });
    expect(server.requests[1].headers.authorization).toBeUndefined();
    s.close();
  });

  it("variants share the parent's metadata cache; only the strategy that made it closes it", async () => {
    serveIssuer(server.origin);
    const s = issuerStrategy(server.origin);
    const variant = s.withParameters({ scope: 'read' });
    expect(variant.discovery).toBe(s.discovery);
    await s.generate();
    await variant.generate();
    expect(requestLine()).toEqual([
      'GET /.well-known/openid-configuration',
      'POST /as/token',
      'POST /as/token',
    ]);
    expect(server.requests[2].form.get('scope')).toBe('read');

    const close = jest.spyOn(s.discovery!, 'close');
    variant.close();
    expect(close).not.toHaveBeenCalled();
    s.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('the issuer URL is used as written: a {tenant} in it is no placeholder', async () => {
    const issuer = `${server.origin}/{tenant}`;
    serveIssuer(issuer);
    const s = issuerStrategy(issuer);
    await expect(s.generate()).resolves.toMatchObject({ token: 'at-1' });
    expect(requestLine()).toEqual(['GET /%7Btenant%7D/.well-known/openid-configuration', 'POST /as/token']);
    s.close();
  });

  it("with dpop, the key's algorithm must be one the issuer lists; nothing is sent otherwise", async () => {
    serveIssuer(server.origin, { dpop_signing_alg_values_supported: ['RS256', 'PS256'] }, 'DPoP');
    const refused = issuerStrategy(server.origin, { dpop: true });
    const error = await rejection(refused.generate());
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error.message).toBe(
      'oauth2 "dpop.algorithm" ES256 is not in the issuer\'s dpop_signing_alg_values_supported',
    );
    expect(error).toMatchObject({ field: 'dpop.algorithm' });
    expect(requestLine()).toEqual(['GET /.well-known/openid-configuration']);
    refused.close();

    server.requests.length = 0;
    serveIssuer(server.origin, { dpop_signing_alg_values_supported: ['ES256'] }, 'DPoP');
    const accepted = issuerStrategy(server.origin, { dpop: true });
    await expect(accepted.generate()).resolves.toMatchObject({ token: 'at-1', tokenType: 'DPoP' });
    const proof = server.requests[1].headers.dpop as string;
    expect(decodeJwt(proof)).toMatchObject({ htm: 'POST', htu: `${server.origin}/as/token` });
    accepted.close();
  });
});
