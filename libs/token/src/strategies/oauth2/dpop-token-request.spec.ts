import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EmbeddedJWK, jwtVerify } from 'jose';
import { ManualClock } from '../../core/clock.js';
import { thrownOptionsError } from '../../testing-support/options-errors.js';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { DpopProofSigner } from './dpop-proof.js';
import { checkDpopAlgorithm, tokenEndpointWantsNonce } from './dpop-token-request.js';
import type { AuthorizationServerMetadata } from './oauth2-discovery.js';
import { postTokenRequest, type TokenEndpointRawResponse } from './token-endpoint-request.js';

const clock = new ManualClock(1_700_000_000_000);
const TOKEN_URL = 'https://as.example/oauth/token?tenant=a';
const ORIGIN = 'https://as.example';

const answer = (status: number, body: unknown, dpopNonce?: string): TokenEndpointRawResponse => ({
  status,
  contentType: 'application/json',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...(dpopNonce === undefined ? {} : { dpopNonce }),
});

describe('tokenEndpointWantsNonce (RFC 9449 §8)', () => {
  it('a 400 use_dpop_nonce with a DPoP-Nonce: keeps the nonce under the origin and asks for one more try', () => {
    const signer = new DpopProofSigner(true, clock);
    expect(tokenEndpointWantsNonce(signer, TOKEN_URL, answer(400, { error: 'use_dpop_nonce' }, 'n-1'))).toBe(
      true,
    );
    expect(signer.nonces.get(ORIGIN)).toBe('n-1');
    expect(signer.nonces.size).toBe(1);
  });

  it.each([
    ['a 200 with a nonce', answer(200, { access_token: 'at', token_type: 'DPoP' }, 'n-1'), 'n-1'],
    ['a 200 whose body says use_dpop_nonce', answer(200, { error: 'use_dpop_nonce' }, 'n-1'), 'n-1'],
    ['a 401 use_dpop_nonce', answer(401, { error: 'use_dpop_nonce' }, 'n-1'), 'n-1'],
    ['a 400 invalid_grant with a nonce', answer(400, { error: 'invalid_grant' }, 'n-1'), 'n-1'],
    ['a 400 without an error', answer(400, {}, 'n-1'), 'n-1'],
    [
      'a 400 use_dpop_nonce as error_description',
      answer(400, { error_description: 'use_dpop_nonce' }, 'n-1'),
      'n-1',
    ],
    ['a 400 whose body is no JSON', answer(400, 'use_dpop_nonce', 'n-1'), 'n-1'],
    ['a 400 whose body is JSON null', answer(400, 'null', 'n-1'), 'n-1'],
    ['a 400 whose body is empty', answer(400, '', 'n-1'), 'n-1'],
    ['a 400 use_dpop_nonce without a DPoP-Nonce', answer(400, { error: 'use_dpop_nonce' }), undefined],
    [
      'a 400 use_dpop_nonce with a malformed DPoP-Nonce',
      answer(400, { error: 'use_dpop_nonce' }, 'a b'),
      undefined,
    ],
  ])('%s: no retry', (_name, response, kept) => {
    const signer = new DpopProofSigner(true, clock);
    expect(tokenEndpointWantsNonce(signer, TOKEN_URL, response)).toBe(false);
    expect(signer.nonces.get(ORIGIN)).toBe(kept);
  });

  it('a response without a usable nonce keeps the one the origin sent before', () => {
    const signer = new DpopProofSigner(true, clock);
    tokenEndpointWantsNonce(signer, TOKEN_URL, answer(200, {}, 'n-1'));
    expect(tokenEndpointWantsNonce(signer, TOKEN_URL, answer(400, { error: 'use_dpop_nonce' }))).toBe(false);
    expect(signer.nonces.get(ORIGIN)).toBe('n-1');
  });

  describe('against a real token endpoint', () => {
    let server: LoopbackServer;
    beforeAll(async () => {
      server = await startLoopbackServer();
    });
    afterAll(() => server.close());

    it('the nonce of a use_dpop_nonce answer goes into the next proof, which the endpoint accepts', async () => {
      const signer = new DpopProofSigner(true, clock);
      const seen: unknown[] = [];
      server.handle(async (req, res) => {
        const { payload } = await jwtVerify(String(req.headers.dpop), EmbeddedJWK, {
          typ: 'dpop+jwt',
          algorithms: ['ES256'],
          currentDate: new Date(clock.now()),
        });
        seen.push(payload);
        if (payload.nonce !== 'server-nonce-1') {
          return sendJson(res, 400, { error: 'use_dpop_nonce' }, { 'dpop-nonce': 'server-nonce-1' });
        }
        return sendJson(res, 200, { access_token: 'at-1', token_type: 'DPoP', expires_in: 60 });
      });
      const url = `${server.tokenUrl}?x=1`;
      const post = async () =>
        postTokenRequest({
          url,
          form: new URLSearchParams({ grant_type: 'client_credentials' }),
          headers: { dpop: await signer.proof('POST', new URL(url)) },
          timeoutMs: 10_000,
          maxResponseBytes: 65_536,
        });

      const first = await post();
      expect(first.status).toBe(400);
      expect(tokenEndpointWantsNonce(signer, url, first)).toBe(true);
      const second = await post();
      expect(second.status).toBe(200);
      expect(tokenEndpointWantsNonce(signer, url, second)).toBe(false);
      expect(seen).toEqual([
        expect.not.objectContaining({ nonce: expect.anything() }),
        expect.objectContaining({ nonce: 'server-nonce-1', htm: 'POST', htu: server.tokenUrl }),
      ]);
      expect(signer.nonces.get(server.origin)).toBe('server-nonce-1');
    });
  });
});

describe('checkDpopAlgorithm', () => {
  const metadata = (supported?: string[]): AuthorizationServerMetadata => ({
    issuer: ORIGIN,
    token_endpoint: `${ORIGIN}/token`,
    ...(supported === undefined ? {} : { dpop_signing_alg_values_supported: supported }),
  });

  it('passes without metadata, without the list, or when the list holds the key’s algorithm', () => {
    const es256 = new DpopProofSigner(true, clock);
    const eddsa = new DpopProofSigner({ algorithm: 'EdDSA' }, clock);
    expect(() => checkDpopAlgorithm(es256, undefined)).not.toThrow();
    expect(() => checkDpopAlgorithm(es256, metadata())).not.toThrow();
    expect(() => checkDpopAlgorithm(es256, metadata(['RS256', 'ES256']))).not.toThrow();
    expect(() => checkDpopAlgorithm(eddsa, metadata(['EdDSA']))).not.toThrow();
  });

  it.each([
    ['an empty list', []],
    ['a list without it', ['RS256', 'PS256', 'EdDSA']],
    ['a list naming it in another case', ['es256']],
  ])('refuses %s, naming the algorithm and the field', (_name, supported) => {
    const signer = new DpopProofSigner(true, clock);
    const error = thrownOptionsError(() => checkDpopAlgorithm(signer, metadata(supported)));
    expect(error.message).toBe(
      `oauth2 "dpop.algorithm" ES256 is not in the issuer's dpop_signing_alg_values_supported`,
    );
    expect(error.field).toBe('dpop.algorithm');
    expect(error.provider).toBeUndefined();
  });
});
