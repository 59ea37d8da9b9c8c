import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeProtectedHeader, decodeJwt, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { CLIENT_ASSERTION_LIFETIME_SECONDS, JWT_BEARER_ASSERTION_TYPE } from './oauth2-client-assertion.js';
import { basicAuthorization, formEncode, OAuth2ClientAuthenticator } from './oauth2-client-auth.js';

const TOKEN_URL = 'https://auth.example.com/token';

function decodeBasicHeader(header: string): [string, string] {
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const formDecode = (v: string) => new URLSearchParams(`v=${v}`).get('v');
  return [formDecode(decoded.slice(0, colon))!, formDecode(decoded.slice(colon + 1))!];
}

describe('client_secret_basic encoding (RFC 6749 §2.3.1)', () => {
  it('form-encodes id and secret before base64', () => {
    expect(formEncode('a b:c+%é')).toBe('a+b%3Ac%2B%25%C3%A9');
    expect(basicAuthorization('my client', 'p@ss:w rd')).toBe(
      `Basic ${Buffer.from('my+client:p%40ss%3Aw+rd').toString('base64')}`,
    );
    expect(basicAuthorization('svc', 'plain-Secret_1.0')).toBe(
      `Basic ${Buffer.from('svc:plain-Secret_1.0').toString('base64')}`,
    );
  });

  it('round-trips any id and secret (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (id, secret) => {
        expect(decodeBasicHeader(basicAuthorization(id, secret))).toEqual([id, secret]);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('OAuth2ClientAuthenticator', () => {
  const clock = new ManualClock(1_700_000_000_000);

  it('client_secret_basic: only the header; client_secret_post: only the body', async () => {
    const basic = await new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientSecret: 's' },
      TOKEN_URL,
      clock,
    ).authenticate();
    expect(basic).toEqual({
      headers: { authorization: basicAuthorization('svc', 's') },
      params: {},
      secrets: ['s', expect.any(String)],
    });
    const post = await new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientSecret: 's', clientAuth: 'client_secret_post' },
      TOKEN_URL,
      clock,
    ).authenticate();
    expect(post).toEqual({
      headers: {},
      params: { client_id: 'svc', client_secret: 's' },
      secrets: ['s', expect.any(String)],
    });
  });

  it.each(['RS256', 'ES256', 'EdDSA'] as const)(
    'private_key_jwt %s: an RFC 7523 assertion with iss=sub=client, aud=tokenUrl, jti, 60 s',
    async (alg) => {
      const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
      for (const key of [await exportPKCS8(privateKey), await exportJWK(privateKey)]) {
        const auth = new OAuth2ClientAuthenticator(
          {
            clientId: 'svc',
            clientAuth: 'private_key_jwt',
            privateKey: key as string,
            signingAlgorithm: alg,
            keyId: 'k1',
          },
          TOKEN_URL,
          clock,
        );
        const first = await auth.authenticate();
        const second = await auth.authenticate();
        expect(first.headers).toEqual({});
        expect(first.params.client_assertion_type).toBe(JWT_BEARER_ASSERTION_TYPE);
        expect(first.params.client_id).toBe('svc');
        expect(first.secrets).toEqual([first.params.client_assertion]);
        const { payload, protectedHeader } = await jwtVerify(first.params.client_assertion, publicKey, {
          issuer: 'svc',
          subject: 'svc',
          audience: TOKEN_URL,
          algorithms: [alg],
          currentDate: new Date(clock.now()),
        });
        expect(protectedHeader).toMatchObject({ alg, kid: 'k1', typ: 'JWT' });
        expect(payload.iat).toBe(clock.now() / 1000);
        expect(payload.exp).toBe(clock.now() / 1000 + CLIENT_ASSERTION_LIFETIME_SECONDS);
        expect(payload.jti).toEqual(expect.any(String));
        expect(decodeJwt(second.params.client_assertion).jti).not.toBe(payload.jti);
      }
    },
  );

  it('defaults to RS256 without a kid', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const auth = new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientAuth: 'private_key_jwt', privateKey: await exportPKCS8(privateKey) },
      TOKEN_URL,
      clock,
    );
    expect(decodeProtectedHeader((await auth.authenticate()).params.client_assertion)).toEqual({
      alg: 'RS256',
      typ: 'JWT',
    });
  });

  it('reports a key that cannot be imported, naming the field and not the key', async () => {
    const bogus = '-----BEGIN PRIVATE KEY-----\nTk9UQUtFWQ==\n-----END PRIVATE KEY-----';
    const auth = new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientAuth: 'private_key_jwt', privateKey: bogus },
      TOKEN_URL,
      clock,
    );
    const error = await auth.authenticate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ field: 'privateKey' });
    expect((error as Error).message).not.toContain('Tk9UQUtFWQ');
  });
});
