import { beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { ManualClock } from '../../core/clock.js';
import { thrownOptionsError } from '../../testing-support/options-errors.js';
import type { DpopAlgorithm } from '../../config/dpop.options.js';
import { DpopProofSigner } from './dpop-proof.js';

// 2023-11-14T22:15:23.987Z: the proof's `iat` is this in whole seconds, rounded down.
const NOW = 1_700_000_123_987;
const NOW_SECONDS = 1_700_000_123;
const clock = new ManualClock(NOW);

/** RFC 7638 required members: all the public `jwk` header may hold (no `d`, `p`, `q`, … ). */
const PUBLIC_MEMBERS: Record<string, string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Checks a proof the way an RFC 9449 §4.3 verifier does, independently of the signer: the
 * signature with the embedded public `jwk` (jose refuses a private one), `typ`, `alg`, and the
 * exact header and claim sets. Returns the header and the claims.
 */
async function verifiedProof(proof: string, algorithm: DpopAlgorithm) {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: [algorithm],
    currentDate: new Date(NOW),
  });
  expect(Object.keys(protectedHeader).sort()).toEqual(['alg', 'jwk', 'typ']);
  expect(protectedHeader.alg).toBe(algorithm);
  const jwk = protectedHeader.jwk as JWK;
  expect(Object.keys(jwk)).toEqual(PUBLIC_MEMBERS[jwk.kty!]);
  for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
  expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  return { header: protectedHeader, jwk, payload };
}

/** The public JWK of a private key, reduced to its RFC 7638 members (what the header must carry). */
function publicJwkOf(key: KeyObject): JWK {
  const full = createPublicKey(key).export({ format: 'jwk' }) as Record<string, string>;
  return Object.fromEntries(PUBLIC_MEMBERS[full.kty].map((name) => [name, full[name]]));
}

const pkcs8 = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
const privateJwk = (key: KeyObject) => key.export({ format: 'jwk' }) as Record<string, unknown>;

let ecKey: KeyObject;
let edKey: KeyObject;
let rsaKey: KeyObject;
beforeAll(() => {
  ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  edKey = generateKeyPairSync('ed25519').privateKey;
  rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
});

describe('DpopProofSigner: the proof (RFC 9449 §4.2)', () => {
  it('dpop: true signs ES256 proofs with a generated P-256 key named by its RFC 7638 thumbprint', async () => {
    const signer = new DpopProofSigner(true, clock);
    expect(signer.algorithm).toBe('ES256');
    const proof = await signer.proof('post', new URL('https://as.example:8443/oauth/token?tenant=a#frag'));
    const { jwk, payload } = await verifiedProof(proof, 'ES256');
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256' });
    expect(payload).toEqual({
      htm: 'POST',
      htu: 'https://as.example:8443/oauth/token',
      iat: NOW_SECONDS,
      jti: expect.any(String),
    });
    expect(signer.thumbprint).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
    expect(signer.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('htm is the method in capitals, htu the origin and path without query or fragment', async () => {
    const signer = new DpopProofSigner(true, clock);
    const cases: [string, string, string, string][] = [
      ['get', 'https://rs.example/api/items?page=2', 'GET', 'https://rs.example/api/items'],
      ['Put', 'http://127.0.0.1:8080/x/y/#top', 'PUT', 'http://127.0.0.1:8080/x/y/'],
      ['DELETE', 'https://rs.example', 'DELETE', 'https://rs.example/'],
      ['patch', 'https://RS.Example:443/A%20b?q#f', 'PATCH', 'https://rs.example/A%20b'],
    ];
    for (const [method, url, htm, htu] of cases) {
      const { payload } = await verifiedProof(await signer.proof(method, new URL(url)), 'ES256');
      expect([payload.htm, payload.htu]).toEqual([htm, htu]);
    }
  });

  it('a new jti each time; iat follows the clock in whole seconds', async () => {
    const moving = new ManualClock(NOW);
    const signer = new DpopProofSigner(true, moving);
    const url = new URL('https://as.example/token');
    const first = (await verifiedProof(await signer.proof('POST', url), 'ES256')).payload;
    moving.advance(61_012); // 184.999 s past the minute: still 184
    const second = (await verifiedProof(await signer.proof('POST', url), 'ES256')).payload;
    expect(first.iat).toBe(NOW_SECONDS);
    expect(second.iat).toBe(NOW_SECONDS + 61);
    expect(second.jti).not.toBe(first.jti);
  });

  it('ath is base64url(SHA-256(access token)) when an access token is given (RFC 9449 §7.1 example)', async () => {
    const signer = new DpopProofSigner(true, clock);
    const url = new URL('https://resource.example.org/protectedresource');
    // RFC 9449 Figure 13: this access token hashes to this ath.
    const token = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
    const { payload } = await verifiedProof(await signer.proof('GET', url, token), 'ES256');
    expect(payload).toEqual({
      htm: 'GET',
      htu: 'https://resource.example.org/protectedresource',
      iat: NOW_SECONDS,
      jti: expect.any(String),
      ath: 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo',
    });
    const other = await verifiedProof(await signer.proof('GET', url, 'at-2'), 'ES256');
    expect(other.payload.ath).toBe(createHash('sha256').update('at-2').digest('base64url'));
    // An empty access token is still a token: its hash, not no ath.
    const empty = await verifiedProof(await signer.proof('GET', url, ''), 'ES256');
    expect(empty.payload.ath).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });

  it("nonce is the last one the URL's origin sent, and only that origin's", async () => {
    const signer = new DpopProofSigner(true, clock);
    const as = new URL('https://as.example/token');
    expect((await verifiedProof(await signer.proof('POST', as), 'ES256')).payload).not.toHaveProperty(
      'nonce',
    );
    signer.nonces.set('https://as.example', 'n-1');
    signer.nonces.set('https://as.example', 'n-2');
    const withNonce = await verifiedProof(await signer.proof('POST', as, 'at-1'), 'ES256');
    expect(withNonce.payload).toEqual({
      htm: 'POST',
      htu: 'https://as.example/token',
      iat: NOW_SECONDS,
      jti: expect.any(String),
      ath: createHash('sha256').update('at-1').digest('base64url'),
      nonce: 'n-2',
    });
    const elsewhere = await signer.proof('POST', new URL('https://as.example:444/token'));
    expect((await verifiedProof(elsewhere, 'ES256')).payload).not.toHaveProperty('nonce');
  });

  it('each signer generates its own key; one signer keeps its key and thumbprint', async () => {
    const a = new DpopProofSigner(true, clock);
    const b = new DpopProofSigner(true, clock);
    expect(a.thumbprint).not.toBe(b.thumbprint);
    const url = new URL('https://as.example/token');
    const first = await verifiedProof(await a.proof('POST', url), 'ES256');
    const second = await verifiedProof(await a.proof('POST', url), 'ES256');
    expect(second.jwk).toEqual(first.jwk);
  });

  it('maxNonces bounds the origins whose nonce is kept', () => {
    const signer = new DpopProofSigner({ maxNonces: 1 }, clock);
    signer.nonces.set('https://a.example', 'n-a');
    signer.nonces.set('https://b.example', 'n-b');
    expect(signer.nonces.size).toBe(1);
    expect(signer.nonces.get('https://a.example')).toBeUndefined();
    expect(signer.nonces.get('https://b.example')).toBe('n-b');
  });
});

describe('DpopProofSigner: the key', () => {
  it.each([
    ['ES256', { kty: 'EC', crv: 'P-256' }],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }],
    ['RS256', { kty: 'RSA', e: 'AQAB' }],
    ['PS256', { kty: 'RSA', e: 'AQAB' }],
  ] as const)('generates a key for %s', async (algorithm, expected) => {
    const signer = new DpopProofSigner({ algorithm }, clock);
    expect(signer.algorithm).toBe(algorithm);
    const { jwk } = await verifiedProof(
      await signer.proof('POST', new URL('https://as.example/t')),
      algorithm,
    );
    expect(jwk).toMatchObject(expected);
    if (jwk.kty === 'RSA') expect(Buffer.from(jwk.n!, 'base64url')).toHaveLength(256); // 2048 bits
    expect(signer.thumbprint).toBe(await calculateJwkThumbprint(jwk, 'sha256'));
  });

  it.each([
    ['EC P-256', () => ecKey, 'ES256'],
    ['Ed25519', () => edKey, 'EdDSA'],
    ['RSA', () => rsaKey, 'RS256'],
  ] as const)(
    'signs with a given %s key, PKCS#8 PEM or private JWK, the algorithm following from it',
    async (_name, key, algorithm) => {
      const expectedJwk = publicJwkOf(key());
      const expectedThumbprint = await calculateJwkThumbprint(expectedJwk, 'sha256');
      for (const privateKey of [pkcs8(key()), privateJwk(key())]) {
        const signer = new DpopProofSigner({ privateKey }, clock);
        expect(signer.algorithm).toBe(algorithm);
        expect(signer.thumbprint).toBe(expectedThumbprint);
        const { jwk } = await verifiedProof(
          await signer.proof('POST', new URL('https://as.example/t')),
          algorithm,
        );
        expect(jwk).toEqual(expectedJwk);
      }
    },
  );

  it('signs PS256 with a given RSA key when told to', async () => {
    const signer = new DpopProofSigner({ privateKey: pkcs8(rsaKey), algorithm: 'PS256' }, clock);
    expect(signer.algorithm).toBe('PS256');
    const { jwk } = await verifiedProof(await signer.proof('GET', new URL('https://rs.example/')), 'PS256');
    expect(jwk).toEqual(publicJwkOf(rsaKey));
  });

  it('takes an RSA key of exactly 2048 bits (the least jose signs with)', async () => {
    const signer = new DpopProofSigner({ privateKey: privateJwk(rsaKey) }, clock);
    expect(rsaKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    await verifiedProof(await signer.proof('GET', new URL('https://rs.example/')), 'RS256');
  });

  it('the thumbprint hashes the required members in lexicographic order (RFC 7638 §3)', () => {
    const signer = new DpopProofSigner({ privateKey: privateJwk(edKey) }, clock);
    const jwk = publicJwkOf(edKey);
    const manual = createHash('sha256')
      .update(`{"crv":"Ed25519","kty":"OKP","x":"${jwk.x}"}`)
      .digest('base64url');
    expect(signer.thumbprint).toBe(manual);
  });
});

describe('DpopProofSigner: keys it refuses', () => {
  it.each([
    ['an Ed25519 key for ES256', () => ({ privateKey: pkcs8(edKey), algorithm: 'ES256' as const }), 'ES256'],
    ['an RSA key for ES256', () => ({ privateKey: pkcs8(rsaKey), algorithm: 'ES256' as const }), 'ES256'],
    ['a P-256 key for EdDSA', () => ({ privateKey: pkcs8(ecKey), algorithm: 'EdDSA' as const }), 'EdDSA'],
    [
      'an RSA key for EdDSA',
      () => ({ privateKey: privateJwk(rsaKey), algorithm: 'EdDSA' as const }),
      'EdDSA',
    ],
    ['a P-256 key for RS256', () => ({ privateKey: pkcs8(ecKey), algorithm: 'RS256' as const }), 'RS256'],
    [
      'an Ed25519 key for PS256',
      () => ({ privateKey: privateJwk(edKey), algorithm: 'PS256' as const }),
      'PS256',
    ],
    [
      'a P-384 key (ES256 is the only EC algorithm)',
      () => ({ privateKey: pkcs8(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey) }),
      'ES256',
    ],
    [
      'a P-384 key for ES256',
      () => ({
        privateKey: privateJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey),
        algorithm: 'ES256' as const,
      }),
      'ES256',
    ],
    [
      'an X25519 key (key agreement)',
      () => ({ privateKey: pkcs8(generateKeyPairSync('x25519').privateKey) }),
      'ES256',
    ],
    ['an Ed448 key', () => ({ privateKey: pkcs8(generateKeyPairSync('ed448').privateKey) }), 'ES256'],
    // Node cannot export these as a JWK: refused before the export is tried.
    [
      'a DSA key',
      () => ({
        privateKey: pkcs8(generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey),
      }),
      'ES256',
    ],
    [
      'an RSA-PSS key for PS256',
      () => ({
        privateKey: pkcs8(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey),
        algorithm: 'PS256' as const,
      }),
      'PS256',
    ],
    // jose signs RS256 and PS256 with 2048 bits or more only: refuse at start-up, not at each proof.
    [
      'a 1024-bit RSA key',
      () => ({ privateKey: pkcs8(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey) }),
      'RS256',
    ],
    [
      'a 2047-bit RSA key for PS256',
      () => ({
        privateKey: privateJwk(generateKeyPairSync('rsa', { modulusLength: 2047 }).privateKey),
        algorithm: 'PS256' as const,
      }),
      'PS256',
    ],
  ])('%s: cannot sign', (_name, config, algorithm) => {
    const error = thrownOptionsError(() => new DpopProofSigner(config(), clock));
    expect(error.message).toBe(`oauth2 "dpop.privateKey" cannot sign ${algorithm}`);
    expect(error.field).toBe('dpop.privateKey');
    expect(error.provider).toBeUndefined();
  });

  it.each([
    ['a string that is no PEM', () => 'not a key -----'],
    [
      'a damaged PEM',
      () =>
        pkcs8(ecKey)
          .replace(/[A-Za-z]{8}/, 'AAAAAAAA')
          .slice(0, 120) + '\n-----END PRIVATE KEY-----',
    ],
    ['a public key PEM', () => createPublicKey(ecKey).export({ type: 'spki', format: 'pem' }).toString()],
    ['a public JWK', () => publicJwkOf(ecKey) as Record<string, unknown>],
    ['an empty object', () => ({})],
    ['a symmetric JWK', () => ({ kty: 'oct', k: 'c2VjcmV0' })],
  ])(
    '%s: is not a usable private key (the message names the field, never the value)',
    (_name, privateKey) => {
      const value = privateKey();
      const error = thrownOptionsError(() => new DpopProofSigner({ privateKey: value }, clock));
      expect(error.message).toBe('oauth2 "dpop.privateKey" is not a usable private key');
      expect(error.field).toBe('dpop.privateKey');
      expect(error.provider).toBeUndefined();
    },
  );
});
