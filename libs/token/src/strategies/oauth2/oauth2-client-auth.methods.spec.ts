/**
 * Every client authentication method of `OAuth2ClientAuthenticator`: the exact header, body fields
 * and redaction list each produces, and what a real loopback token endpoint receives (RFC 6749
 * §2.3.1, RFC 7523 §2.2, RFC 8705 §2). Assertions are verified independently with jose.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader, exportPKCS8, generateKeyPair, jwtVerify, type CryptoKey } from 'jose';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import {
  decodeBasic,
  errorRenderings,
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { CLIENT_ASSERTION_LIFETIME_SECONDS, JWT_BEARER_ASSERTION_TYPE } from './oauth2-client-assertion.js';
import { basicAuthorization, OAuth2ClientAuthenticator } from './oauth2-client-auth.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

/** From TEST_SECRETS: `:`, `+`, `/`, `%`, a space and a non-ASCII letter, all of which form encoding changes. */
const SECRET = 'Sx~9f3:Q+z/SECRET%é leak-canary';
const CLIENT_ID = 'shop client:1';
const TOKEN_URL = 'https://auth.example.com/token';
const NOW = 1_700_000_000_000;
const secretKey = new TextEncoder().encode(SECRET);

/** RFC 6749 Appendix B form encoding of the id and secret, written out by hand. */
const FORM_ENCODED = 'shop+client%3A1:Sx%7E9f3%3AQ%2Bz%2FSECRET%25%C3%A9+leak-canary';
/** The base64 part of the Basic header: what a log of the raw header would show. */
const CREDENTIALS = Buffer.from(FORM_ENCODED, 'ascii').toString('base64');
const formEncoded = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

let clock: ManualClock;
beforeEach(() => {
  clock = new ManualClock(NOW);
});

describe('client_secret_basic and client_secret_post', () => {
  it('basic: the form-encoded id and secret in the header, nothing in the body', async () => {
    const auth = new OAuth2ClientAuthenticator(
      { clientId: CLIENT_ID, clientSecret: SECRET },
      TOKEN_URL,
      clock,
    );
    expect(auth.method).toBe('client_secret_basic');
    expect(await auth.authenticate()).toEqual({
      headers: { authorization: `Basic ${CREDENTIALS}` },
      params: {},
      secrets: [SECRET, CREDENTIALS],
    });
    expect(decodeBasic(`Basic ${CREDENTIALS}`)).toEqual({ clientId: CLIENT_ID, clientSecret: SECRET });
  });

  it('post: id and secret in the body, no header', async () => {
    const auth = new OAuth2ClientAuthenticator(
      { clientId: CLIENT_ID, clientSecret: SECRET, clientAuth: 'client_secret_post' },
      TOKEN_URL,
      clock,
    );
    expect(await auth.authenticate()).toEqual({
      headers: {},
      params: { client_id: CLIENT_ID, client_secret: SECRET },
      secrets: [SECRET, CREDENTIALS],
    });
  });

  it('static secrets: the secret and the base64 of the Basic header, without the "Basic " prefix', () => {
    const auth = new OAuth2ClientAuthenticator({ clientId: 'svc', clientSecret: SECRET }, TOKEN_URL, clock);
    const [secret, credentials] = auth.staticSecrets;
    expect(secret).toBe(SECRET);
    expect(`Basic ${credentials}`).toBe(basicAuthorization('svc', SECRET));
    expect(credentials).not.toMatch(/^Basic/);
  });

  it('without a secret: an empty secret is sent and there is nothing to redact', async () => {
    const basic = new OAuth2ClientAuthenticator({ clientId: 'svc' }, TOKEN_URL, clock);
    expect(basic.staticSecrets).toEqual([]);
    const sent = await basic.authenticate();
    expect(sent).toEqual({
      headers: { authorization: basicAuthorization('svc', '') },
      params: {},
      secrets: [],
    });
    expect(decodeBasic(sent.headers.authorization)).toEqual({ clientId: 'svc', clientSecret: '' });

    const post = new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientAuth: 'client_secret_post' },
      TOKEN_URL,
      clock,
    );
    expect(await post.authenticate()).toEqual({
      headers: {},
      params: { client_id: 'svc', client_secret: '' },
      secrets: [],
    });
  });

  it('an empty secret is not listed for redaction either', () => {
    expect(
      new OAuth2ClientAuthenticator({ clientId: 'svc', clientSecret: '' }, TOKEN_URL, clock).staticSecrets,
    ).toEqual([]);
  });
});

describe('tls_client_auth and self_signed_tls_client_auth (RFC 8705 §2)', () => {
  it.each(['tls_client_auth', 'self_signed_tls_client_auth'] as const)(
    '%s: only client_id in the body; the secret, if any, is neither sent nor listed',
    async (clientAuth) => {
      const auth = new OAuth2ClientAuthenticator(
        { clientId: CLIENT_ID, clientSecret: SECRET, clientAuth },
        TOKEN_URL,
        clock,
      );
      expect(auth.method).toBe(clientAuth);
      expect(await auth.authenticate()).toEqual({
        headers: {},
        params: { client_id: CLIENT_ID },
        secrets: [],
      });
    },
  );
});

describe('client_secret_jwt (RFC 7523 §2.2, HMAC with the client secret)', () => {
  it.each([
    [undefined, 'HS256'],
    ['HS256', 'HS256'],
    ['HS384', 'HS384'],
    ['HS512', 'HS512'],
  ] as const)('signingAlgorithm %s: an %s assertion the secret verifies', async (signingAlgorithm, alg) => {
    const auth = new OAuth2ClientAuthenticator(
      { clientId: CLIENT_ID, clientSecret: SECRET, clientAuth: 'client_secret_jwt', signingAlgorithm },
      TOKEN_URL,
      clock,
    );
    const sent = await auth.authenticate();
    expect(sent.headers).toEqual({});
    expect(sent.params).toEqual({
      client_id: CLIENT_ID,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: expect.any(String),
    });
    expect(sent.secrets).toEqual([sent.params.client_assertion]);
    // The secret itself goes nowhere near the wire.
    expect(JSON.stringify(sent)).not.toContain(SECRET);
    const { payload, protectedHeader } = await jwtVerify(sent.params.client_assertion, secretKey, {
      issuer: CLIENT_ID,
      subject: CLIENT_ID,
      audience: TOKEN_URL,
      algorithms: [alg],
      currentDate: new Date(NOW),
    });
    expect(protectedHeader).toEqual({ alg, typ: 'JWT' });
    expect(payload).toEqual({
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      aud: TOKEN_URL,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: NOW / 1000,
      exp: NOW / 1000 + CLIENT_ASSERTION_LIFETIME_SECONDS,
    });
    const again = await auth.authenticate();
    expect(again.params.client_assertion).not.toBe(sent.params.client_assertion);
  });

  it('a keyId goes into the kid header', async () => {
    const auth = new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientSecret: SECRET, clientAuth: 'client_secret_jwt', keyId: 'hmac-1' },
      TOKEN_URL,
      clock,
    );
    expect(decodeProtectedHeader((await auth.authenticate()).params.client_assertion)).toEqual({
      alg: 'HS256',
      typ: 'JWT',
      kid: 'hmac-1',
    });
  });

  it('a privateKey does not replace the secret as the HMAC key', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const auth = new OAuth2ClientAuthenticator(
      {
        clientId: 'svc',
        clientSecret: SECRET,
        clientAuth: 'client_secret_jwt',
        privateKey: await exportPKCS8(privateKey),
      },
      TOKEN_URL,
      clock,
    );
    const { params } = await auth.authenticate();
    await expect(
      jwtVerify(params.client_assertion, secretKey, { algorithms: ['HS256'], currentDate: new Date(NOW) }),
    ).resolves.toMatchObject({ payload: { iss: 'svc' } });
  });

  it('without a secret, nothing is signed (no made-up HMAC key)', async () => {
    const auth = new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientAuth: 'client_secret_jwt' },
      TOKEN_URL,
      clock,
    );
    await expect(auth.authenticate()).rejects.toThrow();
  });
});

describe('private_key_jwt without a key', () => {
  it('fails as a typed error on "privateKey", naming oauth2 and the algorithm', async () => {
    const auth = new OAuth2ClientAuthenticator(
      { clientId: 'svc', clientSecret: SECRET, clientAuth: 'private_key_jwt' },
      TOKEN_URL,
      clock,
    );
    const error = await auth.authenticate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({
      field: 'privateKey',
      message:
        'oauth2: "privateKey" could not be imported as a RS256 private key (PKCS#8 PEM or private JWK)',
    });
    for (const text of errorRenderings(error)) expect(text).not.toContain(SECRET);
  });
});

describe('what a loopback token endpoint receives', () => {
  let server: LoopbackServer;
  let rsa: { pem: string; publicKey: CryptoKey };
  beforeAll(async () => {
    server = await startLoopbackServer();
    const pair = await generateKeyPair('RS256', { extractable: true });
    rsa = { pem: await exportPKCS8(pair.privateKey), publicKey: pair.publicKey };
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.handle((_req, res) =>
      sendJson(res, 200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 60 }),
    );
  });

  const generate = (options: Record<string, unknown>) =>
    new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: CLIENT_ID, ...options }, clock).generate();

  it('client_secret_basic: Authorization Basic with the form-encoded id and secret, a bare body', async () => {
    await expect(generate({ clientSecret: SECRET })).resolves.toMatchObject({ token: 'at-1' });
    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.headers.authorization).toBe(`Basic ${CREDENTIALS}`);
    expect(decodeBasic(request.headers.authorization)).toEqual({ clientId: CLIENT_ID, clientSecret: SECRET });
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect([...request.form]).toEqual([['grant_type', 'client_credentials']]);
  });

  it('client_secret_post: client_id and client_secret in the body, no Authorization', async () => {
    await generate({ clientSecret: SECRET, clientAuth: 'client_secret_post' });
    const [request] = server.requests;
    expect(request.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(request.form)).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: SECRET,
    });
  });

  it('client_secret_jwt: an HS256 assertion for the token endpoint, the secret itself not sent', async () => {
    await generate({ clientSecret: SECRET, clientAuth: 'client_secret_jwt' });
    const [request] = server.requests;
    expect(request.headers.authorization).toBeUndefined();
    expect(request.body).not.toContain(formEncoded(SECRET));
    expect(request.form.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION_TYPE);
    expect(request.form.get('client_id')).toBe(CLIENT_ID);
    const { payload } = await jwtVerify(request.form.get('client_assertion')!, secretKey, {
      issuer: CLIENT_ID,
      subject: CLIENT_ID,
      audience: server.tokenUrl,
      algorithms: ['HS256'],
      currentDate: new Date(NOW),
    });
    expect(payload.exp).toBe(NOW / 1000 + CLIENT_ASSERTION_LIFETIME_SECONDS);
  });

  it('private_key_jwt: an RS256 assertion the public key verifies', async () => {
    await generate({ clientAuth: 'private_key_jwt', privateKey: rsa.pem, keyId: 'k-7' });
    const [request] = server.requests;
    expect(request.headers.authorization).toBeUndefined();
    expect(request.form.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION_TYPE);
    const { protectedHeader } = await jwtVerify(request.form.get('client_assertion')!, rsa.publicKey, {
      issuer: CLIENT_ID,
      subject: CLIENT_ID,
      audience: server.tokenUrl,
      algorithms: ['RS256'],
      currentDate: new Date(NOW),
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k-7' });
  });
});
