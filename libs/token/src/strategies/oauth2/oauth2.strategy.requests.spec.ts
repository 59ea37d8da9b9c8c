import { describe, expect, it } from '@jest/globals';
import {
  errorRenderings,
  sendJson,
  withLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { rejection } from '../../testing-support/rejection.js';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError, TokenResponseError } from '../../core/token.errors.js';
import { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../../config/oauth2-grants.options.js';
import { DpopProofSigner } from './dpop-proof.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

const NOW = 1_700_000_000_000;
const SECRET = 'client-secret-zz-9191';
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt';

let server: LoopbackServer;
let clock: ManualClock;
withLoopbackServer(NOW, (started, fresh) => {
  server = started;
  clock = fresh;
  server.handle((_req, res) =>
    sendJson(res, 200, { access_token: 'at', token_type: 'Bearer', expires_in: 60 }),
  );
});

type Config = ConstructorParameters<typeof OAuth2Strategy>[0];
const strategy = (extra: Partial<Config> = {}, context?: ConstructorParameters<typeof OAuth2Strategy>[2]) =>
  new OAuth2Strategy(
    { tokenUrl: server.tokenUrl, clientId: 'svc', clientSecret: SECRET, ...extra } as Config,
    clock,
    context,
  );
const lastForm = () => Object.fromEntries(server.requests.at(-1)!.form);

describe('OAuth2Strategy: tenant placeholder', () => {
  const tenantUrl = () => `${server.origin}/{tenant}/oauth2/token`;

  it('without a tenant, generate() refuses naming "tenant" and sends nothing', async () => {
    const error = await rejection(strategy({ tokenUrl: tenantUrl() }).generate());
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error.message).toBe('oauth2 "tenant" is required: "tokenUrl" has a {tenant} placeholder');
    expect(error).toMatchObject({ field: 'tenant' });
    expect(server.requests).toHaveLength(0);
  });

  it('the configured tenant fills it; a per-call tenant makes a variant with its own URL and key', async () => {
    const s = strategy({ tokenUrl: tenantUrl(), tenant: 'acme' });
    await s.generate();
    expect(server.requests[0].path).toBe('/acme/oauth2/token');
    const variant = s.withParameters({ tenant: 'globex' });
    await variant.generate();
    expect(server.requests[1].path).toBe('/globex/oauth2/token');
    expect(variant.cacheKey).not.toBe(s.cacheKey);
    expect(variant.cacheKey).toContain('/globex/oauth2/token');

    // A variant of an unfilled URL gets its tenant per call.
    await strategy({ tokenUrl: tenantUrl() }).withParameters({ tenant: 'initech' }).generate();
    expect(server.requests[2].path).toBe('/initech/oauth2/token');
  });
});

describe('OAuth2Strategy.withParameters: refusals', () => {
  it('a per-call tenant on an issuer provider, naming "tenant"', () => {
    const issuerStrategy = new OAuth2Strategy(
      { issuer: 'https://issuer.example.com', clientId: 'svc', clientSecret: SECRET },
      clock,
    );
    let error: unknown;
    try {
      issuerStrategy.withParameters({ tenant: 'acme' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect((error as Error).message).toBe(
      'per-call "tenant" needs a "tokenUrl" with a {tenant} placeholder, not "issuer"',
    );
    expect(error).toMatchObject({ field: 'tenant' });
    // Other per-call values are fine on an issuer provider.
    expect(() => issuerStrategy.withParameters({ scope: 'read' })).not.toThrow();
  });

  it('a per-call subject token without "tokenExchange", naming "subjectToken" and never quoting it', () => {
    let error: unknown;
    try {
      strategy().withParameters({ subjectToken: 'subject-canary-4711' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect((error as Error).message).toBe('per-call "subjectToken" needs a provider with "tokenExchange"');
    expect(error).toMatchObject({ field: 'subjectToken' });
    for (const text of errorRenderings(error)) expect(text).not.toContain('subject-canary-4711');
  });
});

describe('OAuth2Strategy.withParameters: per-call values replace the configured ones', () => {
  const configured = {
    scope: 'read',
    audience: 'https://aud.config',
    resource: 'https://res.config',
    extraParams: { region: 'eu' },
  };

  it('audience: the per-call one, else the configured one', async () => {
    const s = strategy(configured);
    await s.withParameters({ audience: 'https://aud.call' }).generate();
    expect(lastForm()).toEqual({
      grant_type: 'client_credentials',
      scope: 'read',
      resource: 'https://res.config',
      audience: 'https://aud.call',
      region: 'eu',
    });
    await s.withParameters({ scope: 'write' }).generate();
    expect(lastForm()).toEqual({
      grant_type: 'client_credentials',
      scope: 'write',
      resource: 'https://res.config',
      audience: 'https://aud.config',
      region: 'eu',
    });
  });

  it('resources: the per-call list replaces the configured one', async () => {
    await strategy(configured)
      .withParameters({ resource: ['https://r1', 'https://r2'] })
      .generate();
    expect(server.requests[0].form.getAll('resource')).toEqual(['https://r1', 'https://r2']);
    expect(server.requests[0].form.get('audience')).toBe('https://aud.config');
  });
});

describe('OAuth2Strategy: token exchange (RFC 8693)', () => {
  const exchange = (extra: Partial<Config> = {}) =>
    strategy({
      tokenExchange: { subjectToken: () => 'subj-configured', requestedTokenType: JWT_TYPE },
      ...extra,
    });
  const issued = () =>
    server.handle((req, res) =>
      sendJson(res, 200, {
        access_token: `at-for-${req.form.get('subject_token')}`,
        token_type: 'Bearer',
        expires_in: 300,
        issued_token_type: JWT_TYPE,
      }),
    );

  it('asks with the exchange grant instead of client credentials; issued_token_type stays in extra', async () => {
    issued();
    const info = await exchange({ scope: 'read' }).generate();
    expect(lastForm()).toEqual({
      grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
      subject_token: 'subj-configured',
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: JWT_TYPE,
      scope: 'read',
    });
    expect(info).toMatchObject({ token: 'at-for-subj-configured', expiresAt: NOW + 300_000 });
    expect(info.extra).toEqual({ issued_token_type: JWT_TYPE });
  });

  it('a per-call subject token is used by its variant and the variants made from it', async () => {
    issued();
    const s = exchange();
    const perCall = s.withParameters({ subjectToken: 'subj-call' });
    expect((await perCall.generate()).token).toBe('at-for-subj-call');
    const narrower = perCall.withParameters({ scope: 'read' });
    expect((await narrower.generate()).token).toBe('at-for-subj-call');
    expect(lastForm()).toMatchObject({ subject_token: 'subj-call', scope: 'read' });
    const keys = new Set([s.cacheKey, perCall.cacheKey, narrower.cacheKey]);
    expect(keys.size).toBe(3);
    for (const key of keys) expect(key).not.toContain('subj-call');
  });

  it('a per-call subject token with no configured source', async () => {
    issued();
    const s = strategy({ tokenExchange: {} });
    const error = await rejection(s.generate());
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(server.requests).toHaveLength(0);
    expect((await s.withParameters({ subjectToken: 'subj-only' }).generate()).token).toBe('at-for-subj-only');
  });

  it('an answer without issued_token_type is a TokenResponseError (RFC 8693 §2.2.1)', async () => {
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at-x', token_type: 'Bearer' }));
    const error = await rejection(exchange().generate());
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe('token exchange response has no "issued_token_type" (RFC 8693 §2.2.1)');
    // The client-credentials grant asks for no issued_token_type.
    await expect(strategy().generate()).resolves.toMatchObject({ token: 'at-x' });
  });
});

describe('OAuth2Strategy: allowedTokenTypes', () => {
  it.each<[string, Partial<Config>, string[]]>([
    ['none configured', {}, []],
    ['configured', { allowedTokenTypes: ['MAC'] }, ['MAC']],
    ['with dpop', { dpop: true }, ['DPoP']],
    ['configured, with dpop', { allowedTokenTypes: ['MAC'], dpop: true }, ['MAC', 'DPoP']],
  ])('%s', (_case, extra, expected) => {
    expect(strategy(extra).allowedTokenTypes).toEqual(expected);
  });

  it('the configured types are accepted from the endpoint, others refused', async () => {
    server.handle((_req, res) => sendJson(res, 200, { access_token: 'at', token_type: 'mac' }));
    expect((await strategy({ allowedTokenTypes: ['MAC'] }).generate()).tokenType).toBe('MAC');
    expect(await rejection(strategy().generate())).toBeInstanceOf(TokenResponseError);
  });
});

describe('OAuth2Strategy: cache key and the DPoP key', () => {
  it("DPoP tokens are keyed by the key's thumbprint: another key, another cache entry", () => {
    const signer = new DpopProofSigner(true, clock);
    const plain = strategy();
    const a = strategy({ dpop: true }, { dpop: signer });
    const b = strategy({ dpop: true }, { dpop: signer });
    const other = strategy({ dpop: true });
    expect(a.cacheKey).toBe(b.cacheKey);
    expect(a.cacheKey).not.toBe(plain.cacheKey);
    expect(other.cacheKey).not.toBe(a.cacheKey);
    expect(a.cacheKey).not.toContain(signer.thumbprint);
    // A variant keeps the parent's key pair.
    expect(a.withParameters({ scope: 'x' }).cacheKey).toBe(b.withParameters({ scope: 'x' }).cacheKey);
    expect(a.withParameters({ scope: 'x' }).senderConstraint?.dpop).toBe(signer);
  });
});

describe('OAuth2Strategy.close', () => {
  it('is harmless without discovery or a client certificate, on a strategy and its variants', () => {
    const s = strategy();
    expect(() => s.close()).not.toThrow();
    expect(() => s.withParameters({ scope: 'x' }).close()).not.toThrow();
  });
});
