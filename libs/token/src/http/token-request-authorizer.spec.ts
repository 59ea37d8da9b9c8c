import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent } from 'node:https';
import { LogCapture } from '../testing-support/log-capture.js';
import { ManualClock } from '../core/clock.js';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import { DpopProofSigner } from '../strategies/oauth2/dpop-proof.js';
import { TokenOriginError, TokenSenderConstraintError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenService } from '../module/token.service.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';

describe('TokenRequestAuthorizer', () => {
  let logs: LogCapture;
  afterEach(() => logs.restore());

  function setup(baseUrls?: string[]) {
    logs = new LogCapture().install();
    const service = new TokenService();
    service.register(
      'api',
      {
        cacheKey: 'api',
        generate: async () => new TokenInfo({ token: 'access-7f3a9', expiresAt: Date.now() + 60_000 }),
      },
      { baseUrls },
    );
    return new TokenRequestAuthorizer(service);
  }

  it('warns once that a provider without baseUrls is not bound to an origin', async () => {
    const authorizer = setup();
    await authorizer.tokenFor(authorizer.provider('api'), new URL('https://a.example/x'));
    await authorizer.tokenFor(authorizer.provider('api'), new URL('https://b.example/y'));
    const warnings = logs.lines.filter((line) => line.includes('has no baseUrls'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('access-7f3a9');
  });

  it('says nothing of the kind for a bound provider', async () => {
    const authorizer = setup(['https://a.example']);
    await expect(
      authorizer.tokenFor(authorizer.provider('api'), new URL('https://a.example/x')),
    ).resolves.toMatchObject({
      token: 'access-7f3a9',
    });
    expect(logs.lines.some((line) => line.includes('has no baseUrls'))).toBe(false);
  });

  /** A provider 'api' (with `options`) and, with `constraint`, a strategy that declares it. */
  function withProvider(options: ProviderOptions, constraint?: object) {
    logs = new LogCapture().install();
    const service = new TokenService();
    const strategy = {
      cacheKey: 'api',
      senderConstraint: constraint,
      allowedTokenTypes: ['DPoP'], // its tokens are DPoP-typed, with or without a proof key
      generate: async (): Promise<TokenInfo> =>
        new TokenInfo({ token: 'access-7f3a9', expiresAt: Date.now() + 60_000, tokenType: 'DPoP' }),
    };
    service.register('api', strategy, options);
    return { service, authorizer: new TokenRequestAuthorizer(service) };
  }
  const warnings = () => logs.lines.filter((line) => line.startsWith('warn '));

  it.each<[string, string, string]>([
    ['https://b.example/x', 'first hop', 'the origin is not in "baseUrls"'],
    [
      'http://a.example/x',
      'first hop',
      'plain http is allowed only to loopback hosts or with "allowInsecureHttp: true"',
    ],
    ['https://b.example/x', 'redirect', 'after a redirect, the origin is not in "baseUrls"'],
    ['ftp://a.example/x', 'redirect', 'after a redirect, only http(s) requests carry tokens'],
  ])('%s (%s): no token, one warning per provider and origin saying why', async (url, hop, reason) => {
    const { authorizer } = withProvider({ baseUrls: ['https://a.example', 'http://a.example'] });
    const check = () =>
      hop === 'redirect'
        ? authorizer.mayFollowRedirect(authorizer.provider('api'), new URL(url))
        : authorizer.tokenFor(authorizer.provider('api'), new URL(url)).then((info) => info !== undefined);
    expect(await check()).toBe(false);
    expect(await check()).toBe(false);
    const origin = new URL(url).origin;
    expect(warnings()).toEqual([
      `warn token provider "api": request to ${origin} sent without its token: ${reason} TokenHttp`,
    ]);
    // Another origin is warned about on its own.
    expect(authorizer.mayFollowRedirect(authorizer.provider('api'), new URL('https://c.example/'))).toBe(
      false,
    );
    expect(warnings()).toHaveLength(2);
    expect(authorizer.mayFollowRedirect(authorizer.provider('api'), new URL('https://a.example/ok'))).toBe(
      true,
    );
    expect(warnings()).toHaveLength(2);
  });

  it('with strictOrigin, refuses instead, naming the origin and why', async () => {
    const { authorizer } = withProvider({ baseUrls: ['https://a.example'], strictOrigin: true });
    await expect(
      authorizer.tokenFor(authorizer.provider('api'), new URL('https://b.example/x')),
    ).rejects.toThrow(new TokenOriginError('api', 'https://b.example', 'the origin is not in "baseUrls"'));
    expect(() =>
      authorizer.mayFollowRedirect(authorizer.provider('api'), new URL('https://b.example/x')),
    ).toThrow(
      new TokenOriginError('api', 'https://b.example', 'after a redirect, the origin is not in "baseUrls"'),
    );
    expect(warnings()).toEqual([]);
  });

  it('the unbound-provider warning says what to do', async () => {
    const { authorizer } = withProvider({});
    await authorizer.tokenFor(authorizer.provider('api'), new URL('https://a.example/x'));
    expect(warnings()).toEqual([
      'warn token provider "api" has no baseUrls: its token goes to any https origin, and any plain-http ' +
        'loopback origin (localhost, 127.0.0.0/8, ::1), that a request in its context names; set baseUrls ' +
        'to bind it to its API (or requireBaseUrls: true to make this a start-up error) TokenHttp',
    ]);
  });

  // Issue 19 row 9: the warning said "any https origin" while plain-http origins got the token too.
  it('row 9: without baseUrls and with allowInsecureHttp, the warning names the plain-http origins that get the token', async () => {
    const { authorizer } = withProvider({ allowInsecureHttp: true });
    // What the warning must describe: a plain-http origin off loopback gets the token.
    await expect(
      authorizer.tokenFor(authorizer.provider('api'), new URL('http://api.example/x')),
    ).resolves.toMatchObject({
      token: 'access-7f3a9',
    });
    const [warning] = warnings();
    expect(warning).toContain('its token goes to any origin, https or plain http (allowInsecureHttp)');
    expect(warning).not.toContain('any https origin');
  });

  it('without baseUrls, the loopback plain-http origins the warning names get the token, others do not', async () => {
    const { authorizer } = withProvider({});
    await expect(
      authorizer.tokenFor(authorizer.provider('api'), new URL('http://127.0.0.1:8080/x')),
    ).resolves.toBeDefined();
    await expect(
      authorizer.tokenFor(authorizer.provider('api'), new URL('http://api.example/x')),
    ).resolves.toBeUndefined();
    expect(warnings()[0]).toContain('any plain-http loopback origin');
  });

  it('past 1 000 remembered warnings, warns every time rather than remember more', async () => {
    const { authorizer } = withProvider({ baseUrls: ['https://a.example'] });
    for (let i = 0; i < 1_000; i++)
      authorizer.mayFollowRedirect(authorizer.provider('api'), new URL(`https://h${i}.example/`));
    expect(warnings()).toHaveLength(1_000);
    authorizer.mayFollowRedirect(authorizer.provider('api'), new URL('https://h999.example/')); // remembered
    expect(warnings()).toHaveLength(1_000);
    authorizer.mayFollowRedirect(authorizer.provider('api'), new URL('https://new.example/'));
    authorizer.mayFollowRedirect(authorizer.provider('api'), new URL('https://new.example/'));
    expect(warnings()).toHaveLength(1_002);
    // The unbound warning is not even said once then (it would never stop).
    const unbound = withProvider({});
    for (let i = 0; i < 1_000; i++)
      unbound.authorizer.mayFollowRedirect(
        unbound.authorizer.provider('api'),
        new URL(`http://h${i}.example/`),
      );
    logs.lines.length = 0;
    await unbound.authorizer.tokenFor(unbound.authorizer.provider('api'), new URL('https://a.example/'));
    expect(warnings()).toEqual([]);
  });

  it.each<[string, object | undefined, string | undefined, string]>([
    [
      'a certificate-bound provider over a transport without the certificate',
      { mtlsAgent: new Agent() },
      'the fetch wrapper',
      'refused',
    ],
    ['a certificate-bound provider over the http adapter', { mtlsAgent: new Agent() }, undefined, 'token'],
    ['a provider without certificate over any transport', undefined, 'the fetch wrapper', 'token'],
    [
      'a DPoP-bound provider over any transport',
      { dpop: new DpopProofSigner(true, new ManualClock()) },
      'the fetch wrapper',
      'token',
    ],
  ])('%s → %s', async (_case, constraint, withoutCertificate, outcome) => {
    const { authorizer } = withProvider({ baseUrls: ['https://a.example'] }, constraint);
    const result = authorizer.tokenFor(
      authorizer.provider('api'),
      new URL('https://a.example/x'),
      withoutCertificate,
    );
    if (outcome === 'refused') {
      await expect(result).rejects.toThrow(new TokenSenderConstraintError('api', 'the fetch wrapper'));
    } else await expect(result).resolves.toMatchObject({ token: 'access-7f3a9' });
  });

  it('hands out the constraint the provider declared: the certificate agent, the DPoP signer', async () => {
    const agent = new Agent();
    const dpop = new DpopProofSigner(true, new ManualClock());
    const info = new TokenInfo({ token: 'access-7f3a9', expiresAt: Date.now() + 60_000, tokenType: 'DPoP' });
    const bound = withProvider({ baseUrls: ['https://a.example'] }, { mtlsAgent: agent, dpop });
    expect(bound.authorizer.provider('api').senderConstraint?.mtlsAgent).toBe(agent);
    expect(bound.authorizer.dpopSignerFor(bound.authorizer.provider('api'), info)).toBeDefined();
    const plain = withProvider({ baseUrls: ['https://a.example'] });
    expect(plain.authorizer.provider('api').senderConstraint?.mtlsAgent).toBeUndefined();
    expect(plain.authorizer.dpopSignerFor(plain.authorizer.provider('api'), info)).toBeUndefined();
  });

  it('warns once per unbound provider, an empty baseUrls included', async () => {
    logs = new LogCapture().install();
    const service = new TokenService();
    const strategy = (name: string) => ({
      cacheKey: name,
      generate: async () => new TokenInfo({ token: 'access-7f3a9', expiresAt: Date.now() + 60_000 }),
    });
    service.register('one', strategy('one'));
    service.register('two', strategy('two'), { baseUrls: [] });
    const authorizer = new TokenRequestAuthorizer(service);
    for (const provider of ['one', 'two', 'one', 'two'])
      await authorizer.tokenFor(authorizer.provider(provider), new URL('https://a.example/'));
    expect(warnings().map((line) => line.slice(0, 30))).toEqual([
      'warn token provider "one" has ',
      'warn token provider "two" has ',
    ]);
  });

  it("hands the fetch wrapper the certificate's dispatcher of a certificate-bound provider", async () => {
    const dispatcher = { dispatch: () => true };
    const bound = withProvider(
      { baseUrls: ['https://a.example'] },
      { mtlsDispatcher: async () => dispatcher },
    );
    await expect(bound.authorizer.provider('api').senderConstraint?.mtlsDispatcher?.()).resolves.toBe(
      dispatcher,
    );
    expect(
      withProvider({ baseUrls: ['https://a.example'] })
        .authorizer.provider('api')
        .senderConstraint?.mtlsDispatcher?.(),
    ).toBeUndefined();
    expect(
      withProvider({ baseUrls: ['https://a.example'] }, {})
        .authorizer.provider('api')
        .senderConstraint?.mtlsDispatcher?.(),
    ).toBeUndefined();
  });
});
