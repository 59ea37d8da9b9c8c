import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { ManualClock } from '../core/clock.js';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import { DpopProofSigner } from '../strategies/oauth2/dpop-proof.js';
import { TokenInsufficientScopeError, TokenOriginError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenService } from '../module/token.service.js';
import { runWithTokenProvider } from './token-context.js';
import { discardBody } from './token-fetch-redirects.js';
import { createTokenFetch, TokenFetch, type TokenFetchInit } from './token-fetch.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';

/** What the fetch underneath saw of one hop. */
interface Hop {
  url: string;
  method: string;
  authorization: string | null;
  dpop: string | null;
  cookie: string | null;
  contentType: string | null;
  body: string | null;
  redirect: RequestInit['redirect'];
  dispatcher: unknown;
}
type Answer = { status: number; headers?: Record<string, string> } | Error;

/** A provider 'api' minting t1, t2, …, and a fake `fetch` answering `answers` in turn. */
function setUp(
  answers: Answer[],
  options: ProviderOptions = { baseUrls: ['https://a.test'] },
  dpop = false,
  mtlsDispatcher?: object,
) {
  const clock = new ManualClock(1_000_000);
  const tokens = new TokenService({ clock });
  let minted = 0;
  const strategy = {
    cacheKey: 'api',
    senderConstraint: {
      dpop: dpop ? new DpopProofSigner(true, clock) : undefined,
      mtlsDispatcher: mtlsDispatcher && (async () => mtlsDispatcher),
    },
    generate: async () =>
      new TokenInfo({
        token: `t${++minted}`,
        expiresAt: clock.now() + 3_600_000,
        tokenType: dpop ? 'DPoP' : 'Bearer',
      }),
  };
  tokens.register('api', strategy, options);
  const hops: Hop[] = [];
  const fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const request = new Request(input, init);
    hops.push({
      url: request.url,
      method: request.method,
      authorization: request.headers.get('authorization'),
      dpop: request.headers.get('dpop'),
      cookie: request.headers.get('cookie'),
      contentType: request.headers.get('content-type'),
      body: request.body === null ? null : await request.text(),
      redirect: init.redirect,
      dispatcher: (init as { dispatcher?: unknown }).dispatcher,
    });
    const answer = answers[Math.min(hops.length - 1, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    return new Response(answer.status === 204 ? null : 'body', answer);
  }) as typeof globalThis.fetch;
  return {
    tokens,
    hops,
    fetch,
    minted: () => minted,
    tokenFetch: createTokenFetch(tokens, 'api', { fetch }),
  };
}

const ok: Answer = { status: 200 };
const to = (location: string, status = 302): Answer => ({ status, headers: { location } });

describe('fetch wrapper: which requests carry the token', () => {
  it.each<[string, string | null, string | URL | Request, TokenFetchInit | undefined]>([
    ['a URL of an allowed origin', 'Bearer t1', 'https://a.test/x', undefined],
    ['a URL object', 'Bearer t1', new URL('https://a.test/x'), {}],
    ['a Request', 'Bearer t1', new Request('https://a.test/x'), undefined],
    ['another origin', null, 'https://b.test/x', undefined],
    ['token: false', null, 'https://a.test/x', { token: false }],
    [
      "the caller's own Authorization",
      'Basic me',
      'https://a.test/x',
      { headers: { Authorization: 'Basic me' } },
    ],
    [
      "a Request with the caller's own Authorization",
      'Basic me',
      new Request('https://a.test/x', { headers: { authorization: 'Basic me' } }),
      undefined,
    ],
    [
      "init headers replace a Request's own",
      'Bearer t1',
      new Request('https://a.test/x', { headers: { authorization: 'Basic me' } }),
      { headers: { accept: 'text/plain' } },
    ],
  ])('%s → Authorization %s', async (_case, authorization, input, init) => {
    const { hops, tokenFetch, minted } = setUp([ok]);
    const response = await tokenFetch(input, init);
    expect(response.status).toBe(200);
    expect(hops).toHaveLength(1);
    expect(hops[0].authorization).toBe(authorization);
    expect(minted()).toBe(authorization?.startsWith('Bearer') ? 1 : 0);
    // With the token, the wrapper follows redirects itself.
    expect(hops[0].redirect).toBe(authorization?.startsWith('Bearer') ? 'manual' : init?.redirect);
  });

  it('a relative URL goes as it is, without the token (no origin to check)', async () => {
    const { tokens, minted } = setUp([ok]);
    const seen: [unknown, RequestInit][] = [];
    const recording = createTokenFetch(tokens, 'api', {
      fetch: (async (input: unknown, init: RequestInit) => {
        seen.push([input, init]);
        return new Response(null, { status: 204 });
      }) as typeof globalThis.fetch,
    });
    await expect(recording('/relative', { token: 'api', method: 'DELETE' })).resolves.toMatchObject({
      status: 204,
    });
    expect(seen).toEqual([['/relative', { method: 'DELETE' }]]);
    expect(minted()).toBe(0);
  });

  it('uses init.token, else the bound provider, else @UseToken(); the injectable too', async () => {
    const { tokens, hops, fetch } = setUp([ok]);
    const unbound = createTokenFetch(tokens, undefined, { fetch });
    await unbound('https://a.test/1');
    await unbound('https://a.test/2', { token: 'api' });
    await runWithTokenProvider('api', () => unbound('https://a.test/3'));
    await runWithTokenProvider('api', () => unbound('https://a.test/4', { token: false }));
    const injectable = new TokenFetch(new TokenRequestAuthorizer(tokens));
    await injectable.forProvider('api', { fetch })('https://a.test/5');
    await injectable.forProvider('api', { fetch })('https://a.test/6', { token: false });
    expect(hops.map((hop) => hop.authorization)).toEqual([
      null,
      'Bearer t1',
      'Bearer t1',
      null,
      'Bearer t1',
      null,
    ]);
  });

  it('with strictOrigin, refuses another origin', async () => {
    const { tokenFetch, hops } = setUp([ok], { baseUrls: ['https://a.test'], strictOrigin: true });
    await expect(tokenFetch('https://b.test/x')).rejects.toBeInstanceOf(TokenOriginError);
    expect(hops).toEqual([]);
  });
});

describe('fetch wrapper: 401 and 403', () => {
  const SCOPE = { 'www-authenticate': 'Bearer error="insufficient_scope", scope="v:w"' };
  it.each<[string, Answer[], TokenFetchInit | undefined, number | string, (string | null)[]]>([
    ['a 401, then 200', [{ status: 401 }, ok], undefined, 200, ['Bearer t1', 'Bearer t2']],
    ['a 401 twice', [{ status: 401 }], undefined, 401, ['Bearer t1', 'Bearer t2']],
    ['a 403', [{ status: 403 }, ok], undefined, 403, ['Bearer t1']],
    ['a 500', [{ status: 500 }, ok], undefined, 500, ['Bearer t1']],
    [
      'a 403 insufficient_scope',
      [{ status: 403, headers: SCOPE }, ok],
      undefined,
      'insufficient_scope',
      ['Bearer t1'],
    ],
    [
      'a 401 insufficient_scope',
      [{ status: 401, headers: SCOPE }, ok],
      undefined,
      'insufficient_scope',
      ['Bearer t1'],
    ],
    [
      'a 401 to a streamed body',
      [{ status: 401 }, ok],
      { method: 'POST', body: new Blob(['x']).stream(), duplex: 'half' } as TokenFetchInit,
      401,
      ['Bearer t1'],
    ],
    [
      'a 401 from a hop the token did not go to',
      [to('https://b.test/y'), { status: 401 }, ok],
      undefined,
      401,
      ['Bearer t1', null],
    ],
    ['a 401 to a request without the token', [{ status: 401 }, ok], { token: false }, 401, [null]],
  ])('%s → %s', async (_case, answers, init, outcome, authorizations) => {
    const { tokenFetch, hops } = setUp(answers);
    const result = await tokenFetch('https://a.test/x', init).then(
      (response) => response.status,
      (error: unknown) => {
        expect(error).toBeInstanceOf(TokenInsufficientScopeError);
        expect(error).toMatchObject({ provider: 'api', origin: 'https://a.test', requiredScope: 'v:w' });
        return 'insufficient_scope';
      },
    );
    expect(result).toBe(outcome);
    expect(hops.map((hop) => hop.authorization)).toEqual(authorizations);
  });

  it("sends a Request's body again on the retry", async () => {
    const { tokenFetch, hops } = setUp([{ status: 401 }, ok]);
    await tokenFetch(new Request('https://a.test/x', { method: 'POST', body: 'payload' }));
    expect(hops.map((hop) => [hop.authorization, hop.body])).toEqual([
      ['Bearer t1', 'payload'],
      ['Bearer t2', 'payload'],
    ]);
  });

  it('a DPoP token: a proof per hop, one retry with the nonce, no new token for use_dpop_nonce', async () => {
    const nonce = {
      status: 401,
      headers: { 'dpop-nonce': 'n-1', 'www-authenticate': 'DPoP error="use_dpop_nonce"' },
    };
    const { tokenFetch, hops, minted } = setUp([nonce, ok], { baseUrls: ['https://a.test'] }, true);
    expect((await tokenFetch('https://a.test/x')).status).toBe(200);
    expect(hops.map((hop) => hop.authorization)).toEqual(['DPoP t1', 'DPoP t1']);
    expect(decodeJwt(hops[0].dpop!).nonce).toBeUndefined();
    expect(decodeJwt(hops[1].dpop!)).toMatchObject({ nonce: 'n-1', htm: 'GET', htu: 'https://a.test/x' });
    expect(minted()).toBe(1);
    const again = setUp([nonce], { baseUrls: ['https://a.test'] }, true);
    expect((await again.tokenFetch('https://a.test/x')).status).toBe(401); // the nonce retry, then no more
    expect(again.hops).toHaveLength(2);
    expect(again.minted()).toBe(1);
  });
});

describe('fetch wrapper: redirects of a request that carries the token', () => {
  it.each<[string, Answer[], TokenFetchInit, [string, string, string | null, string | null][]]>([
    [
      'same origin, 302: followed with the token',
      [to('/next'), ok],
      {},
      [
        ['GET', 'https://a.test/x', 'Bearer t1', null],
        ['GET', 'https://a.test/next', 'Bearer t1', null],
      ],
    ],
    [
      'another origin: followed without the token, nor cookies',
      [to('https://b.test/y'), ok],
      { headers: { cookie: 'c=1' } },
      [
        ['GET', 'https://a.test/x', 'Bearer t1', null],
        ['GET', 'https://b.test/y', null, null],
      ],
    ],
    [
      'a POST answered 303: a GET without body',
      [to('/done', 303), ok],
      { method: 'POST', body: 'data', headers: { 'content-type': 'text/plain' } },
      [
        ['POST', 'https://a.test/x', 'Bearer t1', 'data'],
        ['GET', 'https://a.test/done', 'Bearer t1', null],
      ],
    ],
    [
      'a POST answered 307: the same POST and body',
      [to('/again', 307), ok],
      { method: 'POST', body: 'data' },
      [
        ['POST', 'https://a.test/x', 'Bearer t1', 'data'],
        ['POST', 'https://a.test/again', 'Bearer t1', 'data'],
      ],
    ],
    [
      "redirect: 'manual': the redirect is the answer",
      [to('/next'), ok],
      { redirect: 'manual' },
      [['GET', 'https://a.test/x', 'Bearer t1', null]],
    ],
    [
      'a redirect without Location is the answer',
      [{ status: 302 }, ok],
      {},
      [['GET', 'https://a.test/x', 'Bearer t1', null]],
    ],
  ])('%s', async (_case, answers, init, expected) => {
    const { tokenFetch, hops } = setUp(answers);
    await tokenFetch('https://a.test/x', init);
    expect(hops.map((hop) => [hop.method, hop.url, hop.authorization, hop.body])).toEqual(expected);
    expect(hops.every((hop) => hop.redirect === 'manual')).toBe(true);
    expect(hops.slice(1).every((hop) => hop.cookie === null)).toBe(true);
    // A hop without the body has none of the headers that described it.
    for (const hop of hops) if (hop.body === null) expect(hop.contentType).toBeNull();
  });

  it("redirect: 'error' fails on a redirect; past 20 redirects fails too", async () => {
    const refused = setUp([to('/next'), ok]);
    await expect(refused.tokenFetch('https://a.test/x', { redirect: 'error' })).rejects.toThrow(
      'fetch failed: a redirect with redirect mode "error"',
    );
    const loop = setUp([to('/again')]);
    await expect(loop.tokenFetch('https://a.test/x')).rejects.toThrow('fetch failed: too many redirects');
    expect(loop.hops).toHaveLength(21);
  });

  it("keeps a Request's body for a 307, and its signal", async () => {
    const { tokenFetch, hops } = setUp([to('/again', 307), ok]);
    const controller = new AbortController();
    await tokenFetch(
      new Request('https://a.test/x', { method: 'PUT', body: 'data', signal: controller.signal }),
    );
    expect(hops.map((hop) => [hop.method, hop.body])).toEqual([
      ['PUT', 'data'],
      ['PUT', 'data'],
    ]);
  });
});

describe('fetch wrapper: what goes with each hop', () => {
  it('a DPoP token: a proof for each hop that carries it, none for a hop that does not', async () => {
    const { tokenFetch, hops } = setUp(
      [to('/two', 307), to('https://b.test/three'), ok],
      { baseUrls: ['https://a.test'] },
      true,
    );
    await tokenFetch('https://a.test/one', { method: 'POST', body: 'data' });
    expect(hops.map((hop) => [hop.method, hop.url, hop.authorization])).toEqual([
      ['POST', 'https://a.test/one', 'DPoP t1'],
      ['POST', 'https://a.test/two', 'DPoP t1'],
      ['GET', 'https://b.test/three', null],
    ]);
    expect(decodeJwt(hops[0].dpop!)).toMatchObject({ htm: 'POST', htu: 'https://a.test/one' });
    expect(decodeJwt(hops[1].dpop!)).toMatchObject({ htm: 'POST', htu: 'https://a.test/two' });
    expect(hops[2].dpop).toBeNull();
  });

  it("the DPoP nonce retry sends a Request's body again", async () => {
    const nonce = {
      status: 401,
      headers: { 'dpop-nonce': 'n-1', 'www-authenticate': 'DPoP error="use_dpop_nonce"' },
    };
    const { tokenFetch, hops } = setUp([nonce, ok], { baseUrls: ['https://a.test'] }, true);
    await tokenFetch(new Request('https://a.test/x', { method: 'POST', body: 'payload' }));
    expect(hops.map((hop) => [hop.body, decodeJwt(hop.dpop!).nonce])).toEqual([
      ['payload', undefined],
      ['payload', 'n-1'],
    ]);
  });

  it('the client certificate goes with the hops that carry the token, and no other', async () => {
    const certificate = { name: 'certificate dispatcher' };
    const { tokenFetch, hops } = setUp(
      [to('/two'), to('https://b.test/three'), ok],
      { baseUrls: ['https://a.test'] },
      false,
      certificate,
    );
    await tokenFetch('https://a.test/one');
    expect(hops.map((hop) => hop.dispatcher)).toEqual([certificate, certificate, undefined]);
    const plain = setUp([ok]);
    await plain.tokenFetch('https://a.test/one');
    expect(plain.hops[0].dispatcher).toBeUndefined();
  });

  it("follows the Request's own redirect mode", async () => {
    const manual = setUp([to('/next'), ok]);
    const response = await manual.tokenFetch(new Request('https://a.test/x', { redirect: 'manual' }));
    expect(response.status).toBe(302);
    expect(manual.hops).toHaveLength(1);
    const follow = setUp([to('/next'), ok]);
    await follow.tokenFetch(new Request('https://a.test/x'));
    expect(follow.hops).toHaveLength(2);
  });

  it('keeps the signal of a Request on the next hops', async () => {
    const signals: (AbortSignal | null | undefined)[] = [];
    const { tokens } = setUp([ok]);
    let calls = 0;
    const recording = createTokenFetch(tokens, 'api', {
      fetch: (async (_input: unknown, init: RequestInit) => {
        signals.push(init.signal);
        return calls++ === 0
          ? new Response(null, { status: 302, headers: { location: '/next' } })
          : new Response('ok');
      }) as typeof globalThis.fetch,
    });
    const controller = new AbortController();
    await recording(new Request('https://a.test/x', { signal: controller.signal }));
    expect(signals).toHaveLength(2);
    expect(signals[1]).toBeDefined();
    controller.abort();
    expect(signals[1]!.aborted).toBe(true);
  });
});

describe('discardBody', () => {
  it('cancels a web stream, destroys a Node stream, ignores none', async () => {
    const calls: string[] = [];
    const fake = (body: unknown) => ({ body }) as unknown as Response;
    await discardBody(fake({ cancel: async () => void calls.push('cancel') }));
    await discardBody(fake({ destroy: () => void calls.push('destroy') }));
    await discardBody(fake({ cancel: async () => Promise.reject(new Error('gone')) }));
    await discardBody(fake(null));
    expect(calls).toEqual(['cancel', 'destroy']);
  });
});
