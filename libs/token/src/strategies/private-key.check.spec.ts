import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { CryptoKey } from 'jose';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { importPrivateKey, privateKeyProblem } from '../config/private-key.check.js';

// The check the configuration runs on every private key (jwt, private_key_jwt, jwt-bearer, DPoP):
// its exact message per problem, the key type each algorithm signs with, and that no message ever
// quotes the key. Kept under strategies/ so the strategies mutation run covers the file.

type Key = string | Record<string, unknown>;

const pkcs8 = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
const jwk = (key: KeyObject) => ({ ...key.export({ format: 'jwk' }) }) as Record<string, unknown>;

const keys = {} as Record<
  'rsa' | 'rsa1024' | 'pss' | 'pss1024' | 'p256' | 'p384' | 'p521' | 'ed25519' | 'ed448',
  KeyObject
>;

beforeAll(() => {
  keys.rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  keys.rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  keys.pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey;
  keys.pss1024 = generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).privateKey;
  keys.p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  keys.p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey;
  keys.p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' }).privateKey;
  keys.ed25519 = generateKeyPairSync('ed25519').privateKey;
  keys.ed448 = generateKeyPairSync('ed448').privateKey;
});

const RSA = (alg: string) => `must be an RSA key of at least 2048 bits for ${alg}`;
const EC = (curve: string, alg: string) => `must be an EC key on ${curve} for ${alg}`;
const ED = 'must be an Ed25519 key for EdDSA';
const NOT_PKCS8 =
  'must be a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"; PKCS#1 "BEGIN RSA PRIVATE KEY" and SEC1 ' +
  '"BEGIN EC PRIVATE KEY" are converted), unencrypted, or a private JWK object';
const DAMAGED_PEM = 'could not be read as a PKCS#8 private key (the PEM body is damaged)';
const BAD_JWK = 'could not be read as a private JWK';

/** Every 16-character run of the key's text (PEM body, JWK members): none may appear in a message. */
function fragments(key: Key): string[] {
  const text =
    typeof key === 'string'
      ? key.replace(/-----[A-Z ]+-----/g, '')
      : Object.values(key)
          .filter((v): v is string => typeof v === 'string' && v.length >= 16)
          .join('\n');
  const runs = text.split(/\s+/).filter((line) => line.length >= 16);
  return runs.flatMap((run) => Array.from({ length: run.length - 15 }, (_, i) => run.slice(i, i + 16)));
}

function expectNoKeyMaterial(message: string | undefined, key: Key): void {
  for (const fragment of fragments(key)) expect(message).not.toContain(fragment);
}

it('the key-material check sees a quoted fragment of a PEM or a JWK', () => {
  const pem = pkcs8(keys.rsa);
  expect(() => expectNoKeyMaterial(`bad key: ${pem.slice(100, 130)}`, pem)).toThrow();
  const key = jwk(keys.p256);
  expect(() => expectNoKeyMaterial(`bad key: ${String(key.d)}`, key)).toThrow();
});

describe('privateKeyProblem: keys that fit the algorithm', () => {
  it.each<[string, () => Key, string | undefined]>([
    ['RSA 2048 PEM, RS256', () => pkcs8(keys.rsa), 'RS256'],
    ['RSA 2048 JWK, RS512', () => jwk(keys.rsa), 'RS512'],
    ['RSA 2048 PEM, PS256', () => pkcs8(keys.rsa), 'PS256'],
    ['RSA-PSS 2048 PEM, PS384', () => pkcs8(keys.pss), 'PS384'],
    ['P-256 PEM, ES256', () => pkcs8(keys.p256), 'ES256'],
    ['P-256 JWK, ES256', () => jwk(keys.p256), 'ES256'],
    ['P-384 PEM, ES384', () => pkcs8(keys.p384), 'ES384'],
    ['P-521 PEM, ES512', () => pkcs8(keys.p521), 'ES512'],
    ['Ed25519 PEM, EdDSA', () => pkcs8(keys.ed25519), 'EdDSA'],
    ['Ed25519 JWK, EdDSA', () => jwk(keys.ed25519), 'EdDSA'],
    ['RSA 2048 PEM, no algorithm (RS256)', () => pkcs8(keys.rsa), undefined],
  ])('%s: no problem', (_case, key, algorithm) => {
    expect(privateKeyProblem(key(), algorithm)).toBeUndefined();
  });
});

describe('privateKeyProblem: a readable key of the wrong type, curve or size', () => {
  it.each<[string, () => Key, string | undefined, string]>([
    ['RSA 1024, RS256', () => pkcs8(keys.rsa1024), 'RS256', RSA('RS256')],
    ['RSA 1024 JWK, RS384', () => jwk(keys.rsa1024), 'RS384', RSA('RS384')],
    ['RSA-PSS 1024, PS256', () => pkcs8(keys.pss1024), 'PS256', RSA('PS256')],
    ['P-256, RS256', () => pkcs8(keys.p256), 'RS256', RSA('RS256')],
    ['Ed25519, PS512', () => pkcs8(keys.ed25519), 'PS512', RSA('PS512')],
    ['P-256, no algorithm (RS256)', () => pkcs8(keys.p256), undefined, RSA('RS256')],
    ['P-384, ES256', () => pkcs8(keys.p384), 'ES256', EC('P-256', 'ES256')],
    ['P-521 JWK, ES256', () => jwk(keys.p521), 'ES256', EC('P-256', 'ES256')],
    ['RSA 2048, ES256', () => pkcs8(keys.rsa), 'ES256', EC('P-256', 'ES256')],
    ['Ed25519, ES256', () => pkcs8(keys.ed25519), 'ES256', EC('P-256', 'ES256')],
    ['P-256, ES384', () => pkcs8(keys.p256), 'ES384', EC('P-384', 'ES384')],
    ['P-521, ES384', () => pkcs8(keys.p521), 'ES384', EC('P-384', 'ES384')],
    ['P-384, ES512', () => pkcs8(keys.p384), 'ES512', EC('P-521', 'ES512')],
    ['P-256 JWK, ES512', () => jwk(keys.p256), 'ES512', EC('P-521', 'ES512')],
    ['P-256, EdDSA', () => pkcs8(keys.p256), 'EdDSA', ED],
    ['RSA 2048, EdDSA', () => pkcs8(keys.rsa), 'EdDSA', ED],
    ['Ed448, EdDSA', () => pkcs8(keys.ed448), 'EdDSA', ED],
  ])('%s: names what the algorithm needs', (_case, key, algorithm, message) => {
    const value = key();
    const problem = privateKeyProblem(value, algorithm);
    expect(problem).toBe(message);
    expectNoKeyMaterial(problem, value);
  });
});

describe('privateKeyProblem: a value that is not a usable private key', () => {
  const garbageBody = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo'.repeat(3);

  it.each<[string, () => Key, string]>([
    [
      'a PKCS#1 PEM (not converted yet)',
      () => keys.rsa.export({ type: 'pkcs1', format: 'pem' }).toString(),
      NOT_PKCS8,
    ],
    [
      'a SEC1 PEM (not converted yet)',
      () => keys.p256.export({ type: 'sec1', format: 'pem' }).toString(),
      NOT_PKCS8,
    ],
    [
      'a public key PEM',
      () =>
        generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
          .publicKey.export({ type: 'spki', format: 'pem' })
          .toString(),
      NOT_PKCS8,
    ],
    ['a string without a PEM', () => `${garbageBody}${garbageBody}`, NOT_PKCS8],
    [
      'a PKCS#8 header over a garbage body',
      () => `-----BEGIN PRIVATE KEY-----\n${garbageBody}\n-----END PRIVATE KEY-----\n`,
      DAMAGED_PEM,
    ],
    [
      'a PKCS#8 PEM cut in half',
      () => `${pkcs8(keys.rsa).slice(0, 400)}\n-----END PRIVATE KEY-----\n`,
      DAMAGED_PEM,
    ],
  ])('%s: refused without quoting it', (_case, key, message) => {
    const value = key();
    const problem = privateKeyProblem(value, 'RS256');
    expect(problem).toBe(message);
    expectNoKeyMaterial(problem, value);
  });

  it.each<[string, () => Record<string, unknown>]>([
    ['a public JWK', () => (({ d: _d, ...pub }) => pub)(jwk(keys.p256))],
    ['a JWK whose "d" is not a string', () => ({ ...jwk(keys.p256), d: 42 })],
    ['an empty object', () => ({})],
  ])('%s: must be a private JWK (with "d")', (_case, key) => {
    const value = key();
    expect(privateKeyProblem(value, 'ES256')).toBe('must be a private JWK (with "d")');
  });

  it.each<[string, () => Record<string, unknown>]>([
    [
      'an RSA JWK without its CRT members',
      () => (({ p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest }) => rest)(jwk(keys.rsa)),
    ],
    ['an EC JWK on an unknown curve', () => ({ ...jwk(keys.p256), crv: 'P-999' })],
    ['a JWK of an unknown type', () => ({ ...jwk(keys.p256), kty: 'XYZ' })],
  ])('%s: could not be read as a private JWK', (_case, key) => {
    const value = key();
    const problem = privateKeyProblem(value, 'RS256');
    expect(problem).toBe(BAD_JWK);
    expectNoKeyMaterial(problem, value);
  });
});

describe('importPrivateKey', () => {
  it('imports a PKCS#8 PEM and a private JWK for the algorithm', async () => {
    const fromPem = await importPrivateKey(pkcs8(keys.p256), 'ES256', 'jwt');
    const fromJwk = await importPrivateKey(jwk(keys.ed25519), 'EdDSA', 'jwt');
    expect((fromPem as CryptoKey).type).toBe('private');
    expect((fromJwk as CryptoKey).type).toBe('private');
  });

  it.each<[string, () => Key, string]>([
    ['a P-256 PEM for RS256', () => pkcs8(keys.p256), 'RS256'],
    [
      'a garbage PKCS#8 body',
      () => `-----BEGIN PRIVATE KEY-----\n${'QUJD'.repeat(20)}\n-----END PRIVATE KEY-----\n`,
      'ES256',
    ],
    ['an RSA JWK for ES256', () => jwk(keys.rsa), 'ES256'],
  ])('%s: an InvalidTokenOptionsError on "privateKey" that quotes no key', async (_case, key, algorithm) => {
    const value = key();
    const failure = await importPrivateKey(value, algorithm, 'token provider "signer"', 'signer').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InvalidTokenOptionsError);
    const error = failure as InvalidTokenOptionsError;
    expect(error.message).toBe(
      `token provider "signer": "privateKey" could not be imported as a ${algorithm} private key (PKCS#8 PEM or private JWK)`,
    );
    expect(error.provider).toBe('signer');
    expect(error.field).toBe('privateKey');
    expectNoKeyMaterial(error.message, value);
    expectNoKeyMaterial(String(error.stack), value);
  });
});
