import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import nodeFetch from 'node-fetch';
import { TokenModule, TokenOriginError, TokenService, createTokenFetch } from '@app/token';
import { countingJwt, customProvider } from './support/http-clients.js';
import { startRedirectLab, type RedirectLab } from './support/http-redirect-lab.js';

const REDIRECTS = [301, 302, 303, 307, 308] as const;
const KEEPS_BODY = new Set<number>([307, 308]);
const BODY = '{"prompt":"a cat surfing"}';

/**
 * Node's fetch drops `Authorization` on a cross-origin redirect by itself; node-fetch keeps it when
 * the host name is the same, whatever the port (and for a parent domain). The wrapper must not
 * depend on which `fetch` it is given.
 */
const nodeFetchImpl = nodeFetch as unknown as typeof globalThis.fetch;
const FETCHES: [string, typeof globalThis.fetch][] = [
  ['node-fetch', nodeFetchImpl],
  ['the global fetch', (input, init) => globalThis.fetch(input, init)],
];

describe.each(FETCHES)('redirects through the fetch wrapper, on %s', (_, fetchImpl) => {
  let lab: RedirectLab;
  let app: TestingModule;
  let header: string;
  /** The allowed origin on 127.0.0.1: fetch has no agent to resolve `localhost` with. */
  let allowed: string;

  beforeAll(async () => {
    lab = await startRedirectLab();
    allowed = lab.allowed.replace('localhost', '127.0.0.1');
  });
  afterAll(() => lab?.close());
  beforeEach(async () => {
    lab.seen.length = 0;
    app = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          providers: {
            kling: customProvider(countingJwt('kling-ak'), { baseUrls: [allowed] }),
            strict: customProvider(countingJwt('strict-ak'), { baseUrls: [allowed], strictOrigin: true }),
          },
          refresh: { enabled: false },
        }),
      ],
    }).compile();
    await app.init();
    header = (await app.get(TokenService).getToken('kling')).authorizationHeader;
  });
  afterEach(() => app?.close());

  const klingFetch = () => createTokenFetch(app.get(TokenService), 'kling', { fetch: fetchImpl });
  const post = (url: string, init: RequestInit = {}) =>
    klingFetch()(url, {
      method: 'POST',
      body: BODY,
      headers: { 'content-type': 'application/json' },
      ...init,
    });

  it.each(REDIRECTS)(
    '%i to a foreign origin: the first hop carries the token, the next never',
    async (status) => {
      const response = await post(lab.redirect(allowed, status, `${lab.foreign}/landing`));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
      expect(lab.seenAt(allowed).map((hop) => hop.authorization)).toEqual([[header]]);
      const landed = lab.seenAt(lab.foreign);
      expect(landed.map((hop) => hop.authorization)).toEqual([[]]);
      expect(landed[0].method).toBe(KEEPS_BODY.has(status) ? 'POST' : 'GET');
      expect(landed[0].body).toBe(KEEPS_BODY.has(status) ? BODY : '');
    },
  );

  it('a redirect within the allowed origin keeps the token', async () => {
    const url = lab.redirect(allowed, 307, lab.redirect(allowed, 302, `${allowed}/landing`));
    expect((await post(url)).status).toBe(200);
    expect(lab.seen.map((hop) => hop.authorization)).toEqual([[header], [header], [header]]);
  });

  it('a Request input keeps its method and body across a 308 (the global fetch only takes these)', async () => {
    if (fetchImpl === nodeFetchImpl) return; // node-fetch takes its own Request class, not the global one
    const request = new Request(lab.redirect(allowed, 308, `${lab.foreign}/landing`), {
      method: 'PUT',
      body: BODY,
    });
    expect((await klingFetch()(request)).status).toBe(200);
    expect(lab.seen.map((hop) => [hop.method, hop.body, hop.authorization.length])).toEqual([
      ['PUT', BODY, 1],
      ['PUT', BODY, 0],
    ]);
  });

  it('strictOrigin refuses the redirect with TokenOriginError; the next hop is never contacted', async () => {
    const strictFetch = createTokenFetch(app.get(TokenService), 'strict', { fetch: fetchImpl });
    await expect(strictFetch(lab.redirect(allowed, 302, `${lab.foreign}/landing`))).rejects.toBeInstanceOf(
      TokenOriginError,
    );
    expect(lab.seenAt(lab.foreign)).toEqual([]);
  });

  it("the caller's redirect mode is kept: manual returns the redirect, error rejects", async () => {
    const url = lab.redirect(allowed, 302, `${lab.foreign}/landing`);
    const manual = await klingFetch()(url, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    await expect(klingFetch()(url, { redirect: 'error' })).rejects.toThrow(TypeError);
    expect(lab.seenAt(lab.foreign)).toEqual([]);
  });

  it('a 401 after a redirect within the allowed origin is retried once; one from a tokenless hop is not', async () => {
    const tokens = app.get(TokenService);
    expect((await post(lab.redirect(allowed, 307, `${allowed}/unauthorized`))).status).toBe(401);
    expect(lab.seen).toHaveLength(4);
    expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(1);
    lab.seen.length = 0;
    expect((await post(lab.redirect(allowed, 307, `${lab.foreign}/unauthorized`))).status).toBe(401);
    expect(lab.seen).toHaveLength(2);
    expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(1);
  });
});
