import { describe, expect, it, jest } from '@jest/globals';
import { decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify } from 'jose';
import { ManualClock } from '../core/clock.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { jwtProviderSchema } from '../config/jwt.options.js';
import { JwtStrategy } from './jwt.strategy.js';

const ACCESS_KEY = 'ak-public-123';
const SECRET_KEY = 'sk-very-secret-value-9f8e7d';

describe('JwtStrategy', () => {
  it('mints a KlingAI-style HS256 JWT that verifies independently with the exact claims', async () => {
    const clock = new ManualClock(Date.now());
    const strategy = new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, clock);
    const info = await strategy.generate();
    const nowSeconds = Math.floor(clock.now() / 1000);

    const { payload, protectedHeader } = await jwtVerify(info.token, new TextEncoder().encode(SECRET_KEY), {
      issuer: ACCESS_KEY,
      algorithms: ['HS256'],
    });
    expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({ iss: ACCESS_KEY, exp: nowSeconds + 1800, nbf: nowSeconds - 5 });
    expect(info.expiresAt).toBe((nowSeconds + 1800) * 1000);
    expect(info.issuedAt).toBe(clock.now());
    expect(info.tokenType).toBe('Bearer');
  });

  it('rejects a token signed for another secret', async () => {
    const info = await new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }).generate();
    await expect(jwtVerify(info.token, new TextEncoder().encode('other-secret'))).rejects.toThrow();
  });

  it('honours expiresInSeconds, notBeforeSkewSeconds, extra claims and header fields', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const strategy = new JwtStrategy(
      {
        accessKey: ACCESS_KEY,
        secretKey: SECRET_KEY,
        expiresInSeconds: 60,
        notBeforeSkewSeconds: 0,
        claims: { sub: 'svc', iss: 'ignored' },
        header: { kid: 'k1', alg: 'none' },
      },
      clock,
    );
    const info = await strategy.generate();
    const { payload } = await jwtVerify(info.token, new TextEncoder().encode(SECRET_KEY), {
      currentDate: new Date(clock.now()),
    });
    expect(payload).toEqual({ iss: ACCESS_KEY, sub: 'svc', exp: 1_700_000_060, nbf: 1_700_000_000 });
    expect(decodeProtectedHeader(info.token)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
  });

  it.each(['RS256', 'ES256', 'EdDSA'] as const)(
    'signs with %s from a PEM or a JWK private key',
    async (alg) => {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      for (const key of [await exportPKCS8(privateKey), await exportJWK(privateKey)]) {
        const info = await new JwtStrategy({
          accessKey: ACCESS_KEY,
          algorithm: alg,
          privateKey: key,
        }).generate();
        const { payload, protectedHeader } = await jwtVerify(info.token, publicKey, { issuer: ACCESS_KEY });
        expect(protectedHeader.alg).toBe(alg);
        expect(payload.iss).toBe(ACCESS_KEY);
      }
    },
  );

  it('has a cache key with the access key and never the secret', () => {
    const strategy = new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY });
    expect(strategy.cacheKey).toContain(ACCESS_KEY);
    expect(strategy.cacheKey).not.toContain(SECRET_KEY);
    const other = new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY, claims: { aud: 'x' } });
    expect(other.cacheKey).not.toBe(strategy.cacheKey);
  });

  it('never shows the token when logged or serialised', async () => {
    const info = await new JwtStrategy({ accessKey: ACCESS_KEY, secretKey: SECRET_KEY }).generate();
    const { inspect } = await import('node:util');
    expect(JSON.stringify(info)).not.toContain(info.token);
    expect(inspect(info)).not.toContain(info.token);
    expect(`${JSON.stringify({ info })}`).toContain('[redacted]');
  });

  describe('private key checks', () => {
    const publicJwk = async () => {
      const { publicKey } = await generateKeyPair('ES256', { extractable: true });
      return { ...(await exportJWK(publicKey)) };
    };
    /** A key with the PKCS#8 header but a body no parser accepts. */
    const BROKEN_PEM_BODY = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBROKENkeyMATERIAL';
    const brokenPem = `-----BEGIN PRIVATE KEY-----\n${BROKEN_PEM_BODY}\n-----END PRIVATE KEY-----\n`;

    it.each([
      [
        'a PKCS#1 PEM',
        '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAsecretbody\n-----END RSA PRIVATE KEY-----',
      ],
      ['a string that is no PEM', 'not-a-pem-at-all-keymaterial'],
    ])('the schema rejects %s at "privateKey", without quoting it', (_label, privateKey) => {
      const result = jwtProviderSchema.safeParse({
        type: 'jwt',
        accessKey: ACCESS_KEY,
        algorithm: 'RS256',
        privateKey,
      });
      expect(result.success).toBe(false);
      expect(result.error!.issues[0].path).toEqual(['privateKey']);
      expect(result.error!.issues[0].message).toMatch(/PKCS#8/);
      expect(JSON.stringify(result.error!.issues)).not.toContain(privateKey.split('\n')[1] ?? privateKey);
    });

    it('the schema rejects a public JWK (no "d") at "privateKey"', async () => {
      const result = jwtProviderSchema.safeParse({
        type: 'jwt',
        accessKey: ACCESS_KEY,
        algorithm: 'ES256',
        privateKey: await publicJwk(),
      });
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]).toMatchObject({
        path: ['privateKey'],
        message: expect.stringMatching(/"d"/),
      });
    });

    it('the constructor validates like the module config, with InvalidTokenOptionsError naming the field', async () => {
      const build = (config: object) => () =>
        new JwtStrategy({ accessKey: ACCESS_KEY, ...config } as ConstructorParameters<typeof JwtStrategy>[0]);
      expect(build({ algorithm: 'ES256', privateKey: await publicJwk() })).toThrow(
        expect.objectContaining({ name: 'InvalidTokenOptionsError', field: 'privateKey' }),
      );
      expect(build({ algorithm: 'RS256', privateKey: 'no-pem-keymaterial' })).toThrow(
        InvalidTokenOptionsError,
      );
      expect(build({ algorithm: 'RS256', privateKey: 'no-pem-keymaterial' })).toThrow(
        'jwt strategy: "privateKey" must be a PKCS#8 PEM',
      );
      expect(build({})).toThrow(expect.objectContaining({ field: 'secretKey' }));
      expect(build({ secretKey: SECRET_KEY, expiresInSeconds: 0 })).toThrow(
        expect.objectContaining({ field: 'expiresInSeconds' }),
      );
      expect(build({ secretKey: SECRET_KEY, algorithm: 'none' })).toThrow(
        expect.objectContaining({ field: 'algorithm' }),
      );
      try {
        build({ secretKey: SECRET_KEY, accessKey: '' })();
        throw new Error('expected a throw');
      } catch (error) {
        expect(error).toMatchObject({ field: 'accessKey' });
        expect(String((error as Error).message)).not.toContain(SECRET_KEY);
      }
    });

    it('a PEM with the right header but a damaged body fails at construction as InvalidTokenOptionsError, without key material', async () => {
      const { inspect } = await import('node:util');
      let error: unknown;
      try {
        new JwtStrategy({ accessKey: ACCESS_KEY, algorithm: 'ES256', privateKey: brokenPem });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({ field: 'privateKey' });
      for (const text of [
        String(error),
        (error as Error).stack ?? '',
        JSON.stringify(error),
        inspect(error),
      ]) {
        expect(text).not.toContain(BROKEN_PEM_BODY);
      }
    });

    it('a JWK for another algorithm fails at construction as InvalidTokenOptionsError', async () => {
      const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
      const jwk = { ...(await exportJWK(privateKey)) };
      expect(() => new JwtStrategy({ accessKey: ACCESS_KEY, algorithm: 'ES256', privateKey: jwk })).toThrow(
        expect.objectContaining({ name: 'InvalidTokenOptionsError', field: 'privateKey' }),
      );
    });

    it('does not cache a failed key import: a later call imports again', async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const strategy = new JwtStrategy({
        accessKey: ACCESS_KEY,
        algorithm: 'ES256',
        privateKey: await exportPKCS8(privateKey),
      });
      const importKey = jest
        .spyOn(globalThis.crypto.subtle, 'importKey')
        .mockRejectedValueOnce(new Error('transient import failure'));
      try {
        const failure = await strategy.generate().catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(InvalidTokenOptionsError);
        expect(failure).toMatchObject({
          message:
            'jwt: "privateKey" could not be imported as a ES256 private key (PKCS#8 PEM or private JWK)',
          field: 'privateKey',
        });
        const info = await strategy.generate();
        await expect(jwtVerify(info.token, publicKey, { issuer: ACCESS_KEY })).resolves.toBeTruthy();
        expect(importKey).toHaveBeenCalledTimes(2);
        // Imported once it worked: the next call reuses the key.
        await strategy.generate();
        expect(importKey).toHaveBeenCalledTimes(2);
      } finally {
        importKey.mockRestore();
      }
    });
  });

  describe('options schema', () => {
    it.each([
      ['accessKey', { type: 'jwt', secretKey: SECRET_KEY }],
      ['secretKey', { type: 'jwt', accessKey: ACCESS_KEY }],
      ['privateKey', { type: 'jwt', accessKey: ACCESS_KEY, algorithm: 'RS256', secretKey: SECRET_KEY }],
      [
        'expiresInSeconds',
        { type: 'jwt', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, expiresInSeconds: -1 },
      ],
      ['algorithm', { type: 'jwt', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, algorithm: 'none' }],
      ['', { type: 'jwt', accessKey: ACCESS_KEY, secretKey: SECRET_KEY, secretkey: 'typo' }],
    ])('rejects a bad config at "%s"', (field, config) => {
      const result = jwtProviderSchema.safeParse(config);
      expect(result.success).toBe(false);
      expect(result.error!.issues[0].path.join('.')).toBe(field);
      expect(JSON.stringify(result.error!.issues)).not.toContain(SECRET_KEY);
    });
  });
});
