/**
 * The JWT-bearer grant (RFC 7523 §2.1): the assertion `JwtBearerGrant` signs, with its defaults and
 * every option, verified with jose; the typed error of a key that cannot be imported; and what a
 * loopback token endpoint receives from a strategy using it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  decodeJwt,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  jwtVerify,
  type CryptoKey,
  type JWTVerifyOptions,
} from 'jose';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { JWT_BEARER_GRANT_TYPE, type JwtBearerConfig } from '../../config/oauth2-grants.options.js';
import {
  decodeBasic,
  errorRenderings,
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { JwtBearerGrant } from './oauth2-jwt-bearer.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

const AUDIENCE = 'https://auth.example.com/token';
/** Not on a whole second: `iat` is rounded down. */
const NOW = 1_700_000_000_750;
const NOW_SECONDS = 1_700_000_000;

let rsa: { pem: string; publicKey: CryptoKey };
let ec: { jwk: Record<string, unknown>; publicKey: CryptoKey };
beforeAll(async () => {
  const rsaPair = await generateKeyPair('RS256', { extractable: true });
  rsa = { pem: await exportPKCS8(rsaPair.privateKey), publicKey: rsaPair.publicKey };
  const ecPair = await generateKeyPair('ES256', { extractable: true });
  ec = { jwk: { ...(await exportJWK(ecPair.privateKey)) }, publicKey: ecPair.publicKey };
});

/** The grant's parameters, checked for shape; the assertion verified with `publicKey`. */
async function signed(grant: JwtBearerGrant, publicKey: CryptoKey, options: JWTVerifyOptions) {
  const { params, secrets } = await grant.parameters(AUDIENCE);
  expect([...params.keys()]).toEqual(['grant_type', 'assertion']);
  expect(params.get('grant_type')).toBe(JWT_BEARER_GRANT_TYPE);
  const assertion = params.get('assertion')!;
  expect(secrets).toEqual([assertion]);
  return jwtVerify(assertion, publicKey, { currentDate: new Date(NOW), ...options });
}

describe('JwtBearerGrant', () => {
  it('defaults: RS256, typ JWT, no kid, iss = sub = client id, aud = the endpoint, 300 s', async () => {
    const grant = new JwtBearerGrant({ privateKey: rsa.pem }, 'sa-client', new ManualClock(NOW));
    const { payload, protectedHeader } = await signed(grant, rsa.publicKey, { algorithms: ['RS256'] });
    expect(protectedHeader).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toEqual({
      iss: 'sa-client',
      sub: 'sa-client',
      aud: AUDIENCE,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      iat: NOW_SECONDS,
      exp: NOW_SECONDS + 300,
    });
  });

  it('every option: algorithm, kid, iss, sub, aud, lifetime and extra claims', async () => {
    const config: JwtBearerConfig = {
      privateKey: ec.jwk,
      algorithm: 'ES256',
      keyId: 'sa-key-1',
      issuer: 'sa@example.iam',
      subject: 'user-42',
      audience: 'https://oauth2.example.com/aud',
      lifetimeSeconds: 1800,
      claims: { scope: 'read write', tenant: 't-9' },
    };
    const grant = new JwtBearerGrant(config, 'sa-client', new ManualClock(NOW));
    const { payload, protectedHeader } = await signed(grant, ec.publicKey, { algorithms: ['ES256'] });
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'sa-key-1' });
    expect(payload).toEqual({
      scope: 'read write',
      tenant: 't-9',
      iss: 'sa@example.iam',
      sub: 'user-42',
      aud: 'https://oauth2.example.com/aud',
      jti: expect.any(String),
      iat: NOW_SECONDS,
      exp: NOW_SECONDS + 1800,
    });
  });

  it('the registered claims win over extra claims of the same name', async () => {
    const grant = new JwtBearerGrant(
      { privateKey: rsa.pem, claims: { iss: 'forged', aud: 'elsewhere', exp: 1 } },
      'sa-client',
      new ManualClock(NOW),
    );
    const { payload } = await signed(grant, rsa.publicKey, { algorithms: ['RS256'] });
    expect(payload).toMatchObject({ iss: 'sa-client', aud: AUDIENCE, exp: NOW_SECONDS + 300 });
  });

  it('each call: a fresh jti, iat and exp from the clock at that moment', async () => {
    const clock = new ManualClock(NOW);
    const grant = new JwtBearerGrant({ privateKey: rsa.pem, lifetimeSeconds: 60 }, 'sa-client', clock);
    const first = decodeJwt((await grant.parameters(AUDIENCE)).params.get('assertion')!);
    clock.advance(125_000);
    const second = decodeJwt((await grant.parameters(AUDIENCE)).params.get('assertion')!);
    expect(second.jti).not.toBe(first.jti);
    expect(second.iat).toBe(NOW_SECONDS + 125);
    expect(second.exp).toBe(NOW_SECONDS + 125 + 60);
  });

  it('a key that cannot be imported: a typed error naming "oauth2 jwtBearer" and the field, every call', async () => {
    // The RSA key for ES256: jose refuses it, so the import fails at the first request.
    const grant = new JwtBearerGrant(
      { privateKey: rsa.pem, algorithm: 'ES256', issuer: 'sa', subject: 'user-42' },
      'sa-client',
      new ManualClock(NOW),
    );
    for (let attempt = 0; attempt < 2; attempt++) {
      const error = await grant.parameters(AUDIENCE).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({
        field: 'privateKey',
        message:
          'oauth2 jwtBearer: "privateKey" could not be imported as a ES256 private key (PKCS#8 PEM or private JWK)',
      });
      const body = rsa.pem.split('\n')[1];
      for (const text of errorRenderings(error)) expect(text).not.toContain(body);
    }
  });
});

describe('a strategy with jwtBearer, against a loopback token endpoint', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer((_req, res) =>
      sendJson(res, 200, { access_token: 'at-jb', token_type: 'Bearer', expires_in: 60 }),
    );
  });
  afterAll(() => server.close());

  it('posts grant_type and an assertion for the token endpoint, the client authenticated as configured', async () => {
    const clock = new ManualClock(NOW);
    const info = await new OAuth2Strategy(
      {
        tokenUrl: server.tokenUrl,
        clientId: 'sa-client',
        clientSecret: 'client-secret-zz-9191',
        jwtBearer: { privateKey: rsa.pem, subject: 'user-42', claims: { scope: 'orders' } },
      },
      clock,
    ).generate();
    expect(info.token).toBe('at-jb');
    const [request] = server.requests;
    expect(decodeBasic(request.headers.authorization)).toEqual({
      clientId: 'sa-client',
      clientSecret: 'client-secret-zz-9191',
    });
    expect(request.form.get('grant_type')).toBe(JWT_BEARER_GRANT_TYPE);
    const { payload } = await jwtVerify(request.form.get('assertion')!, rsa.publicKey, {
      issuer: 'sa-client',
      subject: 'user-42',
      audience: server.tokenUrl,
      algorithms: ['RS256'],
      currentDate: new Date(NOW),
    });
    expect(payload).toMatchObject({ scope: 'orders', iat: NOW_SECONDS, exp: NOW_SECONDS + 300 });
  });
});
