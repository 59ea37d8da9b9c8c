import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { decodeProtectedHeader } from 'jose';
import {
  InvalidTokenOptionsError,
  OAuth2Strategy,
  TokenModule,
  TokenService,
  tokenConfigFromEnv,
} from '@app/token';
import { ConfigModule, registerAs } from '@nestjs/config';
import { startOidcServer, type OidcServer } from './support/oidc-provider-server.js';
import { oidcClient } from './support/oidc-test-bed.js';
import { rejection } from './support/rejection.js';

// client_secret_jwt (RFC 7523 §2.2, OpenID Connect Core §9): the client proves itself with a JWT
// signed (HMAC) with its secret, which never travels. Checked by panva's oidc-provider, which
// verifies the signature, the claims (iss = sub = client id, aud, exp, a fresh jti) and the alg the
// client is registered for.
// 64 characters: oidc-provider wants a secret at least as long as HS512's key.
const SECRET = 'Cj-client-secret-jwt-SECRET-canary.5f0c-0123456789abcdef0123456789abcdef0123456789ab';

const ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

describe('oauth2 client_secret_jwt vs oidc-provider', () => {
  let server: OidcServer;
  const assertions: Array<{ alg: unknown; basic: boolean; secretInBody: boolean }> = [];

  beforeAll(async () => {
    server = await startOidcServer({
      enabledJWA: { clientAuthSigningAlgValues: [...ALGORITHMS, 'RS256', 'ES256', 'EdDSA'] },
      clients: ALGORITHMS.map((alg) =>
        oidcClient(`svc-${alg}`, {
          client_secret: SECRET,
          token_endpoint_auth_method: 'client_secret_jwt',
          token_endpoint_auth_signing_alg: alg,
        }),
      ),
      setup: (provider) => {
        // What reached the token endpoint: the assertion's header, and that no secret travelled.
        provider.use(async (ctx, next) => {
          if (ctx.path === '/token') {
            const body = (ctx.request as unknown as { body?: Record<string, string> }).body;
            await next();
            const params = (ctx.oidc?.params ?? body ?? {}) as Record<string, string | undefined>;
            assertions.push({
              alg: params.client_assertion ? decodeProtectedHeader(params.client_assertion).alg : undefined,
              basic: typeof ctx.get('authorization') === 'string' && ctx.get('authorization') !== '',
              secretInBody: JSON.stringify(params).includes(SECRET),
            });
            return;
          }
          await next();
        });
      },
    });
  });
  afterAll(() => server.close());

  it.each(ALGORITHMS)('gets a token with a %s assertion; the secret itself is never sent', async (alg) => {
    const before = assertions.length;
    const strategy = new OAuth2Strategy({
      tokenUrl: server.tokenUrl,
      clientId: `svc-${alg}`,
      clientSecret: SECRET,
      clientAuth: 'client_secret_jwt',
      signingAlgorithm: alg,
    });
    const info = await strategy.generate();
    expect(info.token.length).toBeGreaterThan(10);
    expect(assertions.slice(before)).toEqual([{ alg, basic: false, secretInBody: false }]);
    expect(server.tokenCalls.at(-1)).toMatchObject({ grantType: 'client_credentials', status: 200 });
  });

  it('configured from the environment, HS256 by default, through the module', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [
            registerAs('token', () =>
              tokenConfigFromEnv({
                TOKEN__PROVIDERS__IDP__TYPE: 'oauth2',
                TOKEN__PROVIDERS__IDP__TOKEN_URL: server.tokenUrl,
                TOKEN__PROVIDERS__IDP__CLIENT_ID: 'svc-HS256',
                TOKEN__PROVIDERS__IDP__CLIENT_SECRET: SECRET,
                TOKEN__PROVIDERS__IDP__CLIENT_AUTH: 'client_secret_jwt',
                TOKEN__REFRESH__ENABLED: 'false',
              }),
            ),
          ],
        }),
        TokenModule.forRoot(),
      ],
    }).compile();
    try {
      await expect(moduleRef.get(TokenService).getToken('idp')).resolves.toMatchObject({
        token: expect.any(String),
      });
      expect(assertions.at(-1)).toEqual({ alg: 'HS256', basic: false, secretInBody: false });
    } finally {
      await moduleRef.close();
    }
  });

  it('a wrong secret: the server refuses the assertion (invalid_client)', async () => {
    const strategy = new OAuth2Strategy({
      tokenUrl: server.tokenUrl,
      clientId: 'svc-HS256',
      clientSecret: `${SECRET.slice(0, -1)}X`,
      clientAuth: 'client_secret_jwt',
    });
    const error = await rejection(strategy.generate());
    expect(String((error as Error).message)).toMatch(/invalid_client/);
  });

  it('refuses at configuration: no secret, an asymmetric alg, or HS256 for another method', () => {
    const build = (extra: object) => () =>
      new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: 'svc', ...extra } as never);
    expect(build({ clientAuth: 'client_secret_jwt' })).toThrow(
      'oauth2 strategy: "clientSecret" is required for client_secret_jwt',
    );
    expect(
      build({ clientAuth: 'client_secret_jwt', clientSecret: SECRET, signingAlgorithm: 'RS256' }),
    ).toThrow('oauth2 strategy: "signingAlgorithm" must be HS256, HS384 or HS512 for client_secret_jwt');
    expect(build({ clientSecret: SECRET, signingAlgorithm: 'HS256' })).toThrow(InvalidTokenOptionsError);
  });
});
