import { beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { TokenModule } from '../module/token.module.js';
import type { TokenProviderConfig } from './token.options.js';

// A private key is read when the module starts: a PEM with the right header and a garbage body, a
// JWK with a broken "d", or a key of the wrong type must stop start-up with an error that names the
// provider and the field, not fail on the first call hours later.

let es256Pem: string;
let es256Jwk: Record<string, unknown>;
let rsaPem: string;
let weakRsaPem: string;
let p384Pem: string;

beforeAll(async () => {
  const es = await generateKeyPair('ES256', { extractable: true });
  es256Pem = await exportPKCS8(es.privateKey);
  es256Jwk = { ...(await exportJWK(es.privateKey)) };
  rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  weakRsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
  p384Pem = generateKeyPairSync('ec', { namedCurve: 'secp384r1' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
});

const garbagePem = () =>
  `-----BEGIN PRIVATE KEY-----\n${'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo'.repeat(3)}\n-----END PRIVATE KEY-----\n`;

async function startWith(providers: Record<string, TokenProviderConfig>): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [TokenModule.forRoot({ providers, refresh: { enabled: false } })],
    }).compile();
    await moduleRef.close();
    return undefined;
  } catch (error) {
    return error;
  }
}

const jwt = (privateKey: string | Record<string, unknown>, algorithm = 'ES256'): TokenProviderConfig =>
  ({ type: 'jwt', accessKey: 'ak', algorithm, privateKey }) as TokenProviderConfig;
const keyJwt = (
  privateKey: string | Record<string, unknown>,
  signingAlgorithm = 'ES256',
): TokenProviderConfig =>
  ({
    type: 'oauth2',
    tokenUrl: 'https://auth.example.com/token',
    clientId: 'svc',
    clientAuth: 'private_key_jwt',
    privateKey,
    signingAlgorithm,
  }) as TokenProviderConfig;

describe('private keys are checked when the module starts', () => {
  it.each<[string, () => TokenProviderConfig]>([
    ['jwt: PKCS#8 header, garbage body', () => jwt(garbagePem())],
    ['jwt: PEM body cut in half', () => jwt(es256Pem.slice(0, 80) + '\n-----END PRIVATE KEY-----\n')],
    ['jwt: JWK with a broken "d"', () => jwt({ ...es256Jwk, d: 'not-a-key' })],
    ['jwt: P-384 key for ES256', () => jwt(p384Pem)],
    ['jwt: RSA key for ES256', () => jwt(rsaPem)],
    ['jwt: EC key for RS256', () => jwt(es256Pem, 'RS256')],
    ['jwt: 1024-bit RSA key for RS256', () => jwt(weakRsaPem, 'RS256')],
    ['oauth2 private_key_jwt: garbage body', () => keyJwt(garbagePem())],
    ['oauth2 private_key_jwt: RSA key for ES256', () => keyJwt(rsaPem)],
    ['oauth2 private_key_jwt: JWK with a broken "d"', () => keyJwt({ ...es256Jwk, d: 'AAAA' })],
  ])('%s: start-up fails naming the provider and "privateKey"', async (_case, config) => {
    const failure = await startWith({ signer: config() });
    expect(failure).toBeInstanceOf(InvalidTokenOptionsError);
    const error = failure as InvalidTokenOptionsError;
    expect(error.provider).toBe('signer');
    expect(error.field).toBe('privateKey');
    expect(error.message).toContain('token provider "signer"');
    expect(error.message).toContain('"privateKey"');
  });

  it('good keys start', async () => {
    expect(
      await startWith({
        pem: jwt(es256Pem),
        jwk: jwt(es256Jwk),
        rsa: jwt(rsaPem, 'RS256'),
        client: keyJwt(es256Pem),
      }),
    ).toBeUndefined();
  });
});
