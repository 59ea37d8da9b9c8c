import { describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import {
  decodeBasic,
  errorRenderings,
  sendJson,
  withLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { rejection } from '../../testing-support/rejection.js';
import { ManualClock } from '../../core/clock.js';
import {
  TokenEndpointError,
  TokenEndpointHeldError,
  TokenEndpointRetryLaterError,
  TokenResponseError,
} from '../../core/token.errors.js';
import { OAuth2ClientAuthenticator } from './oauth2-client-auth.js';
import { DpopProofSigner } from './dpop-proof.js';
import { refreshGrantParameters } from './oauth2-grant-parameters.js';
import { requestOAuth2Token, type OAuth2TokenRequestPlan } from './oauth2-token-request.js';

const NOW = 1_700_000_000_000;
/**
 * Secrets that read as plain words: the description filter (word by word) would show them, so only
 * the request's own redactor stands between them and the message.
 */
const WORDY_SECRET = 'marmalade sunflower meadow';
const WORDY_REFRESH_TOKEN = 'lantern-harbour-compass';

let server: LoopbackServer;
let clock: ManualClock;
withLoopbackServer(NOW, (started, fresh) => {
  server = started;
  clock = fresh;
});

const plan = (extra: Partial<OAuth2TokenRequestPlan> = {}): OAuth2TokenRequestPlan => ({
  url: server.tokenUrl,
  authenticator: new OAuth2ClientAuthenticator(
    { clientId: 'svc', clientSecret: WORDY_SECRET },
    server.tokenUrl,
    clock,
  ),
  clock,
  timeoutMs: 5_000,
  maxResponseBytes: 65_536,
  defaultExpiresInSeconds: 3_600,
  ...extra,
});
const clientCredentials = () =>
  Promise.resolve({ params: new URLSearchParams({ grant_type: 'client_credentials' }), secrets: [] });

describe('requestOAuth2Token: DPoP (RFC 9449 §4)', () => {
  it('adds a proof for this POST to this URL beside the client authentication; DPoP joins the configured token types', async () => {
    const signer = new DpopProofSigner(true, clock);
    server.handle((_req, res) =>
      sendJson(res, 200, { access_token: 'at-dpop', token_type: 'DPoP', expires_in: 60 }),
    );
    const info = await requestOAuth2Token(
      plan({ dpop: signer, allowedTokenTypes: ['MAC'] }),
      clientCredentials,
    );
    expect(info).toMatchObject({ token: 'at-dpop', tokenType: 'DPoP', expiresAt: NOW + 60_000 });

    const [req] = server.requests;
    expect(decodeBasic(req.headers.authorization)).toEqual({ clientId: 'svc', clientSecret: WORDY_SECRET });
    const proof = req.headers.dpop as string;
    expect(typeof proof).toBe('string');
    const header = decodeProtectedHeader(proof);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(await calculateJwkThumbprint(header.jwk as JWK)).toBe(signer.thumbprint);
    expect(decodeJwt(proof)).toMatchObject({ htm: 'POST', htu: server.tokenUrl, iat: NOW / 1000 });

    // The configured schemes stay accepted next to DPoP.
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at-mac', token_type: 'MAC' }));
    const mac = await requestOAuth2Token(
      plan({ dpop: signer, allowedTokenTypes: ['MAC'] }),
      clientCredentials,
    );
    expect(mac.tokenType).toBe('MAC');
  });

  it('without a signer: no proof header, and a DPoP token type is refused', async () => {
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at', token_type: 'DPoP' }));
    const error = await rejection(requestOAuth2Token(plan(), clientCredentials));
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(server.requests[0].headers.dpop).toBeUndefined();
  });
});

describe('requestOAuth2Token: redaction', () => {
  it("withholds the client's secret and the grant's secrets from the error, even when they read as words", async () => {
    server.handle((_req, res) =>
      sendJson(res, 400, {
        error: 'invalid_grant',
        error_description: `you sent ${WORDY_SECRET} and ${WORDY_REFRESH_TOKEN} here`,
      }),
    );
    const error = await rejection(
      requestOAuth2Token(plan(), () => Promise.resolve(refreshGrantParameters({}, WORDY_REFRESH_TOKEN))),
    );
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(server.requests[0].form.get('refresh_token')).toBe(WORDY_REFRESH_TOKEN);
    expect(error.message).toBe(
      'token endpoint returned 400 invalid_grant: you sent [redacted] and [redacted] here',
    );
    for (const text of errorRenderings(error)) {
      expect(text).not.toContain(WORDY_SECRET);
      expect(text).not.toContain('sunflower');
      expect(text).not.toContain(WORDY_REFRESH_TOKEN);
      expect(text).not.toContain('harbour');
    }
  });

  it('the refresh-token grant names its refresh token as a secret', () => {
    const grant = refreshGrantParameters({ scope: ['b', 'a'], resource: 'https://api' }, 'rt-xyz');
    expect(grant.secrets).toEqual(['rt-xyz']);
    expect([...grant.params]).toEqual([
      ['grant_type', 'refresh_token'],
      ['refresh_token', 'rt-xyz'],
      ['scope', 'b a'],
      ['resource', 'https://api'],
    ]);
  });
});

describe('requestOAuth2Token: Retry-After holds the endpoint', () => {
  it('after a 429 with Retry-After, nothing is sent to the URL until that time (on this clock)', async () => {
    server.handle((_req, res) => sendJson(res, 429, { error: 'slow_down' }, { 'retry-after': '30' }));
    const first = await rejection(requestOAuth2Token(plan(), clientCredentials));
    expect(first).toBeInstanceOf(TokenEndpointRetryLaterError);
    expect(first).toMatchObject({ status: 429, retryAfterMs: 30_000 });

    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at-later' }));
    clock.advance(29_999);
    const held = await rejection(requestOAuth2Token(plan(), clientCredentials));
    expect(held).toBeInstanceOf(TokenEndpointHeldError);
    expect(held).toMatchObject({ status: 429, retryAt: NOW + 30_000, retryAfterMs: 1 });
    expect(server.requests).toHaveLength(1);

    clock.advance(1);
    await expect(requestOAuth2Token(plan(), clientCredentials)).resolves.toMatchObject({ token: 'at-later' });
    expect(server.requests).toHaveLength(2);
  });

  it('an error without Retry-After holds nothing', async () => {
    server.handle((_req, res) => sendJson(res, 503, { error: 'temporarily_unavailable' }));
    const error = await rejection(requestOAuth2Token(plan(), clientCredentials));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).not.toBeInstanceOf(TokenEndpointRetryLaterError);
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at-now' }));
    await expect(requestOAuth2Token(plan(), clientCredentials)).resolves.toMatchObject({ token: 'at-now' });
  });
});
