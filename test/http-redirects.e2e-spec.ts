import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AxiosRequestConfig, AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import { TokenModule, TokenOriginError, TokenService } from '@app/token';
import { AXIOS_VERSIONS } from './support/http-axios-versions.js';
import { countingJwt, customProvider } from './support/http-clients.js';
import { startRedirectLab, type RedirectLab } from './support/http-redirect-lab.js';
import { LogCapture } from './support/log-capture.js';

const REDIRECTS = [301, 302, 303, 307, 308] as const;
/** 301/302 turn a POST into a GET, 303 anything but GET/HEAD; 307/308 keep method and body. */
const KEEPS_BODY = new Set<number>([307, 308]);
const BODY = '{"prompt":"a cat surfing"}';

describe.each(AXIOS_VERSIONS)('redirects through the axios interceptor, axios $label', (axiosVersion) => {
  let lab: RedirectLab;
  let app: TestingModule | undefined;
  let logs: LogCapture;

  beforeAll(async () => {
    lab = await startRedirectLab();
  });
  afterAll(() => lab?.close());
  beforeEach(() => {
    lab.seen.length = 0;
    logs = new LogCapture().install();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    logs.restore();
  });

  /** An application whose HttpService runs on `axiosVersion`, with provider kling bound to `lab.allowed`. */
  async function start(options: { strictOrigin?: boolean } = {}, adapter?: 'http' | 'fetch') {
    // The fetch adapter has no agent to resolve `localhost` with: its allowed origin is 127.0.0.1.
    const allowed = adapter === 'fetch' ? lab.allowed.replace('localhost', '127.0.0.1') : lab.allowed;
    const instance = axiosVersion.create({ httpAgent: adapter === 'fetch' ? undefined : lab.agent }, adapter);
    app = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          providers: { kling: customProvider(countingJwt('kling-ak'), { baseUrls: [allowed], ...options }) },
          refresh: { enabled: false },
        }),
      ],
      providers: [{ provide: HttpService, useFactory: () => new HttpService(instance) }],
    }).compile();
    await app.init();
    const http = app.get(HttpService);
    const header = (await app.get(TokenService).getToken('kling')).authorizationHeader;
    const post = (url: string, config: AxiosRequestConfig = {}): Promise<AxiosResponse> =>
      firstValueFrom(
        http.post(url, BODY, { token: 'kling', headers: { 'content-type': 'application/json' }, ...config }),
      );
    return { http, header, post, allowed };
  }

  const targets = (): [string, string][] => [
    ['a subdomain of the allowed origin', lab.subdomain],
    ['a foreign origin', lab.foreign],
  ];

  describe.each(['subdomain', 'foreign'] as const)('to %s', (kind) => {
    it.each(REDIRECTS)('%i: the first hop carries the token, the next hop never does', async (status) => {
      const { header, post } = await start();
      const target = kind === 'subdomain' ? lab.subdomain : lab.foreign;
      const response = await post(lab.redirect(lab.allowed, status, `${target}/landing`));
      expect(response.status).toBe(200);
      expect(lab.seenAt(lab.allowed).map((hop) => hop.authorization)).toEqual([[header]]);
      const landed = lab.seenAt(target);
      expect(landed.map((hop) => hop.authorization)).toEqual([[]]);
      // The hop keeps axios/follow-redirects' method rules.
      expect(landed[0].method).toBe(KEEPS_BODY.has(status) ? 'POST' : 'GET');
      expect(landed[0].body).toBe(KEEPS_BODY.has(status) ? BODY : '');
      expect(landed[0].path).toBe('/landing');
    });
  });

  it('a redirect within the allowed origin keeps the token, hop after hop', async () => {
    const { header, post } = await start();
    const second = lab.redirect(lab.allowed, 307, `${lab.allowed}/landing`);
    await expect(post(lab.redirect(lab.allowed, 302, second))).resolves.toMatchObject({ status: 200 });
    expect(lab.seenAt(lab.allowed).map((hop) => [hop.path.split('?')[0], hop.authorization])).toEqual([
      ['/redirect', [header]],
      ['/redirect', [header]],
      ['/landing', [header]],
    ]);
  });

  it('a relative Location stays on the current origin and keeps the token', async () => {
    const { header, post } = await start();
    await expect(post(lab.redirect(lab.allowed, 308, '/landing'))).resolves.toMatchObject({ status: 200 });
    expect(lab.seenAt(lab.allowed).map((hop) => hop.authorization)).toEqual([[header], [header]]);
  });

  it('once dropped, the token is not put back when a later hop returns to the allowed origin', async () => {
    const { post } = await start();
    for (const [, target] of targets()) {
      lab.seen.length = 0;
      const back = lab.redirect(target, 302, `${lab.allowed}/landing`);
      await post(lab.redirect(lab.allowed, 302, back));
      expect(lab.seen.map((hop) => hop.authorization.length)).toEqual([1, 0, 0]);
    }
  });

  it('strictOrigin refuses the redirect with TokenOriginError; the next hop is never contacted', async () => {
    const { post } = await start({ strictOrigin: true });
    for (const [, target] of targets()) {
      const failure = post(lab.redirect(lab.allowed, 302, `${target}/landing?secret=s3cr3t`));
      await expect(failure).rejects.toBeInstanceOf(TokenOriginError);
      await failure.catch((error: Error) => {
        expect(error.message).toContain(new URL(target).origin);
        expect(error.message).not.toContain('s3cr3t');
      });
      expect(lab.seenAt(target)).toEqual([]);
    }
  });

  it('maxRedirects: 0 still returns the redirect itself; maxRedirects is still a limit', async () => {
    const { post } = await start();
    await expect(
      post(lab.redirect(lab.allowed, 302, `${lab.allowed}/landing`), { maxRedirects: 0 }),
    ).rejects.toMatchObject({ response: { status: 302 } });
    const twice = lab.redirect(lab.allowed, 302, lab.redirect(lab.allowed, 302, `${lab.allowed}/landing`));
    await expect(post(twice, { maxRedirects: 1 })).rejects.toMatchObject({
      code: 'ERR_FR_TOO_MANY_REDIRECTS',
    });
    expect(lab.seenAt(lab.allowed).map((hop) => hop.path.split('?')[0])).toEqual([
      '/redirect',
      '/redirect',
      '/redirect',
    ]);
  });

  it('a 401 after a redirect within the allowed origin is retried once with a fresh token', async () => {
    const { post } = await start();
    const tokens = app!.get(TokenService);
    await expect(post(lab.redirect(lab.allowed, 307, `${lab.allowed}/unauthorized`))).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(lab.seen.map((hop) => hop.path.split('?')[0])).toEqual([
      '/redirect',
      '/unauthorized',
      '/redirect',
      '/unauthorized',
    ]);
    expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(1);
  });

  it('a 401 from a hop that did not get the token is not retried', async () => {
    const { post } = await start();
    const tokens = app!.get(TokenService);
    await expect(post(lab.redirect(lab.allowed, 307, `${lab.foreign}/unauthorized`))).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(lab.seen).toHaveLength(2);
    expect(tokens.getStats().unauthorizedRetries).toBe(0);
  });

  if (axiosVersion.hasFetchAdapter) {
    it.each(REDIRECTS)(
      'the fetch adapter: %i to a foreign origin never carries the token',
      async (status) => {
        const { header, post, allowed } = await start({}, 'fetch');
        await expect(post(lab.redirect(allowed, status, `${lab.foreign}/landing`))).resolves.toMatchObject({
          status: 200,
        });
        expect(lab.seenAt(allowed).map((hop) => hop.authorization)).toEqual([[header]]);
        expect(lab.seenAt(lab.foreign).map((hop) => hop.authorization)).toEqual([[]]);
      },
    );
  }
});
