/**
 * Property tests over configuration: whatever a user writes in the `token` namespace, start-up
 * either builds every provider or stops with an `InvalidTokenOptionsError` that names the field —
 * never another kind of error, and never the secret in its message. ~6,000 cases through the same
 * steps as the module (validation, strategy construction, registration), 40 through a real
 * `TokenModule` compile.
 */
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import type { ModuleRef } from '@nestjs/core';
import fc from 'fast-check';
import { generateKeyPair, exportJWK, exportPKCS8 } from 'jose';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { TokenModule } from '../module/token.module.js';
import { TokenService } from '../module/token.service.js';
import { resolveTokenConfig } from './token-config.loader.js';
import { createStrategy, providerOptionsOf } from '../module/token-strategy.factory.js';
import { systemClock } from '../core/clock.js';

const SECRET = 'Cfg-SECRET-canary-0b7e';

/** A ModuleRef that knows no provider: `custom` configs that need one must fail cleanly. */
const emptyModuleRef = {
  get: () => {
    throw new Error('unknown provider');
  },
  create: async (type: new () => unknown) => new type(),
} as unknown as ModuleRef;

const anything = fc.anything({ maxDepth: 2 });
const secretish = fc.oneof(fc.constant(SECRET), fc.constant(`${SECRET}-2`), anything);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
const url = fc.oneof(
  fc.constant('https://auth.example.com/oauth/token'),
  fc.constant('http://127.0.0.1:9/token'),
  fc.constant('http://auth.example.com/token'),
  fc.constant(`https://user:${SECRET}@auth.example.com/token`),
  fc.constant(`https://auth.example.com/token?client_secret=${SECRET}`),
  fc.constant('https://login.example.com/{tenant}/token'),
  fc.webUrl(),
  fc.string(),
  anything,
);
const number = fc.oneof(
  fc.integer({ min: -5, max: 4_000_000 }),
  fc.double(),
  fc.constant(Number.NaN),
  anything,
);

function providerArbitrary(pem: string, jwk: Record<string, unknown>) {
  const jwt = fc.record(
    {
      type: fc.constant('jwt'),
      accessKey: fc.oneof(fc.constant('ak-public'), anything),
      secretKey: secretish,
      privateKey: fc.oneof(fc.constant(pem), fc.constant(jwk), secretish),
      algorithm: fc.oneof(fc.constantFrom('HS256', 'HS512', 'RS256', 'ES256', 'EdDSA', 'none'), anything),
      expiresInSeconds: number,
      notBeforeSkewSeconds: number,
      claims: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), anything),
      safetyMarginMs: number,
      baseUrls: fc.oneof(fc.array(url, { maxLength: 2 }), anything),
      strictOrigin: fc.oneof(fc.boolean(), anything),
      bogus: anything,
    },
    { requiredKeys: ['type'] },
  );
  const oauth2 = fc.record(
    {
      type: fc.constant('oauth2'),
      tokenUrl: url,
      clientId: fc.oneof(fc.constant('svc'), anything),
      clientSecret: secretish,
      clientAuth: fc.oneof(
        fc.constantFrom('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'tls'),
        anything,
      ),
      privateKey: fc.oneof(fc.constant(pem), fc.constant(jwk), secretish),
      signingAlgorithm: fc.oneof(fc.constantFrom('RS256', 'ES256', 'EdDSA', 'HS256'), anything),
      scope: fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), anything),
      audience: fc.oneof(fc.string(), anything),
      resource: fc.oneof(fc.webUrl(), fc.array(fc.webUrl(), { maxLength: 2 }), anything),
      extraParams: fc.oneof(
        fc.dictionary(
          fc.constantFrom('foo', 'client_secret', 'grant_type', 'x'),
          fc.oneof(fc.string(), secretish),
        ),
        anything,
      ),
      tenant: fc.oneof(fc.string(), anything),
      timeoutMs: number,
      maxResponseBytes: number,
      allowInsecureHttp: fc.oneof(fc.boolean(), anything),
      bogus: anything,
    },
    { requiredKeys: ['type'] },
  );
  const custom = fc.record(
    {
      type: fc.constant('custom'),
      useClass: fc.oneof(fc.constant(class {}), anything),
      useFactory: fc.oneof(
        fc.constant(() => ({ cacheKey: 'c', generate: async () => ({ token: SECRET, expiresAt: 0 }) })),
        fc.constant(() => ({ secret: SECRET })),
        anything,
      ),
      useExisting: anything,
      inject: fc.oneof(fc.array(fc.string(), { maxLength: 2 }), anything),
    },
    { requiredKeys: ['type'] },
  );
  const noise = fc.record({ type: anything, secretKey: secretish, clientSecret: secretish });
  return fc.oneof(jwt, oauth2, custom, noise, anything);
}

/** What the module does with a configuration at start-up, without Nest around it. */
async function startUp(config: unknown): Promise<TokenService> {
  const resolved = resolveTokenConfig(config as never);
  const service = new TokenService();
  for (const [name, providerConfig] of Object.entries(resolved.providers ?? {})) {
    const strategy = await createStrategy(name, providerConfig, emptyModuleRef, systemClock);
    service.register(name, strategy, providerOptionsOf(providerConfig));
  }
  return service;
}

function expectCleanFailure(error: unknown): void {
  expect(error).toBeInstanceOf(InvalidTokenOptionsError);
  const typed = error as InvalidTokenOptionsError;
  for (const text of [typed.message, String(typed.stack), JSON.stringify(typed)]) {
    expect(text).not.toContain(SECRET);
  }
}

describe('configuration fuzzing', () => {
  it('any configuration gives a working set of providers or a clear error without the secret', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const jwk = { ...(await exportJWK(privateKey)) } as Record<string, unknown>;
    let built = 0;
    const fieldsNamed = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.oneof(fc.constantFrom('kling', 'github', '__proto__', 'constructor'), fc.string()),
          providerArbitrary(pem, jwk),
          {
            maxKeys: 3,
          },
        ),
        maybe(number),
        async (providers, safetyMarginMs) => {
          try {
            const service = await startUp({ providers, safetyMarginMs, refresh: { enabled: false } });
            expect(service.providerNames().sort()).toEqual(Object.keys(providers).sort());
            built++;
          } catch (error) {
            expectCleanFailure(error);
            fieldsNamed.add((error as InvalidTokenOptionsError).field ?? '');
          }
        },
      ),
      { numRuns: 6_000 },
    );
    // The generator must reach both outcomes and many different mistakes, or the property says little.
    expect(built).toBeGreaterThan(300);
    expect(fieldsNamed.size).toBeGreaterThan(15);
  }, 120_000);

  it('the same holds through a real TokenModule compile', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const jwk = { ...(await exportJWK(privateKey)) } as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('kling', 'github'), providerArbitrary(pem, jwk), { maxKeys: 2 }),
        async (providers) => {
          try {
            const moduleRef = await Test.createTestingModule({
              imports: [TokenModule.forRoot({ providers: providers as never, refresh: { enabled: false } })],
            }).compile();
            await moduleRef.close();
          } catch (error) {
            expectCleanFailure(error);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
