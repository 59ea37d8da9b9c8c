/**
 * `ClientAssertionSigner` on its own: the algorithm it picks from what it was given, the RFC 7523
 * claims, and the typed error of a key that cannot be imported. Verified with jose.
 */
import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { errorRenderings } from '../../testing-support/oauth2-loopback-server.js';
import { CLIENT_ASSERTION_LIFETIME_SECONDS, ClientAssertionSigner } from './oauth2-client-assertion.js';

const SECRET = 'In-client-SECRET-canary-0d3e';
const AUDIENCE = 'https://auth.example.com/oauth2/token';
/** Not on a whole second: `iat` is rounded down. */
const NOW = 1_700_000_123_987;
const NOW_SECONDS = 1_700_000_123;

describe('ClientAssertionSigner', () => {
  it('with a client secret and no algorithm: HS256, keyed by the UTF-8 bytes of the secret', async () => {
    const signer = new ClientAssertionSigner(
      { clientId: 'svc', audience: AUDIENCE, clientSecret: SECRET },
      new ManualClock(NOW),
    );
    const assertion = await signer.sign();
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(assertion, new TextEncoder().encode(SECRET), {
      issuer: 'svc',
      subject: 'svc',
      audience: AUDIENCE,
      algorithms: ['HS256'],
      currentDate: new Date(NOW),
    });
    expect(payload).toEqual({
      iss: 'svc',
      sub: 'svc',
      aud: AUDIENCE,
      jti: expect.any(String),
      iat: NOW_SECONDS,
      exp: NOW_SECONDS + CLIENT_ASSERTION_LIFETIME_SECONDS,
    });
    expect(inspect(signer, { depth: 5, showHidden: true })).not.toContain(SECRET);
    expect(JSON.stringify(signer)).not.toContain(SECRET);
  });

  it('with a private key and no algorithm: RS256, from a PEM or a JWK', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    for (const key of [await exportPKCS8(privateKey), { ...(await exportJWK(privateKey)) }]) {
      const signer = new ClientAssertionSigner(
        { clientId: 'svc', audience: AUDIENCE, privateKey: key },
        new ManualClock(NOW),
      );
      const { protectedHeader, payload } = await jwtVerify(await signer.sign(), publicKey, {
        issuer: 'svc',
        subject: 'svc',
        audience: AUDIENCE,
        algorithms: ['RS256'],
        currentDate: new Date(NOW),
      });
      expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT' });
      expect(payload.iat).toBe(NOW_SECONDS);
    }
  });

  it('the clock moves iat and exp; each assertion has its own jti', async () => {
    const clock = new ManualClock(NOW);
    const signer = new ClientAssertionSigner(
      { clientId: 'svc', audience: AUDIENCE, clientSecret: SECRET, algorithm: 'HS384', keyId: 'k' },
      clock,
    );
    const key = new TextEncoder().encode(SECRET);
    const first = await jwtVerify(await signer.sign(), key, { currentDate: new Date(NOW) });
    clock.advance(90_000);
    const second = await jwtVerify(await signer.sign(), key, { currentDate: new Date(clock.now()) });
    expect(first.protectedHeader).toEqual({ alg: 'HS384', typ: 'JWT', kid: 'k' });
    expect(second.payload.iat).toBe(NOW_SECONDS + 90);
    expect(second.payload.exp).toBe(NOW_SECONDS + 90 + CLIENT_ASSERTION_LIFETIME_SECONDS);
    expect(second.payload.jti).not.toBe(first.payload.jti);
  });

  it('a key that cannot be imported: a typed error naming oauth2, the field and the algorithm, every time', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    // An EC key for RS256: a PKCS#8 PEM jose refuses for that algorithm.
    const signer = new ClientAssertionSigner(
      { clientId: 'svc', audience: AUDIENCE, privateKey: pem, algorithm: 'RS256' },
      new ManualClock(NOW),
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await signer.sign().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({
        field: 'privateKey',
        provider: undefined,
        message:
          'oauth2: "privateKey" could not be imported as a RS256 private key (PKCS#8 PEM or private JWK)',
      });
      const body = pem.split('\n')[1];
      for (const text of errorRenderings(error)) expect(text).not.toContain(body);
    }
  });
});
