import { describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import type { DiscoveryService } from '@nestjs/core';
import axios, {
  AxiosError,
  type AxiosAdapter,
  type AxiosInstance,
  type InternalAxiosRequestConfig,
} from 'axios';
import { LogCapture } from '../testing-support/log-capture.js';
import { ManualClock } from '../core/clock.js';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import { TokenInsufficientScopeError, TokenOriginError } from '../core/token.errors.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenService } from '../module/token.service.js';
import { runWithTokenProvider } from './token-context.js';
import { requestUrlOf } from './axios-request-url.js';
import { TokenHttpInterceptor } from './token-http.interceptor.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';

describe('requestUrlOf', () => {
  it.each([
    [{ url: 'https://a.test/x' }, 'https://a.test/x'],
    [{ baseURL: 'https://a.test/v1/', url: '/x' }, 'https://a.test/v1/x'],
    [{ baseURL: 'https://a.test/v1', url: 'x' }, 'https://a.test/v1/x'],
    [{ baseURL: 'https://a.test/v1' }, 'https://a.test/v1'],
    [{ baseURL: 'https://a.test', url: 'https://b.test/x' }, 'https://b.test/x'],
    [
      { baseURL: 'https://a.test', url: 'https://b.test/x', allowAbsoluteUrls: false },
      'https://a.test/https://b.test/x',
    ],
    [{ url: '/relative' }, undefined],
    [{ baseURL: 'https://a.test', url: '//b.test/x' }, undefined],
  ])('%j → %s', (config, expected) => {
    expect(requestUrlOf(config)?.href).toBe(expected);
  });
});

/** An axios instance whose adapter records each request and answers with `statuses` in turn. */
function setUp(options: ProviderOptions = {}, statuses: number[] = [200], onSend?: () => Promise<void>) {
  const clock = new ManualClock(1_000_000);
  const tokens = new TokenService({ clock });
  let minted = 0;
  tokens.register(
    'kling',
    {
      cacheKey: 'kling',
      generate: async () => new TokenInfo({ token: `t${++minted}`, expiresAt: clock.now() + 3_600_000 }),
    },
    options,
  );
  const sent: (string | undefined)[] = [];
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    sent.push(config.headers.get('Authorization') as string | undefined);
    await onSend?.();
    const status = statuses[Math.min(sent.length - 1, statuses.length - 1)];
    const response = { data: null, status, statusText: '', headers: {}, config };
    if (status >= 400) throw new AxiosError('failed', 'ERR_BAD_REQUEST', config, undefined, response);
    return response;
  };
  const instance = axios.create({ adapter });
  const interceptor = new TokenHttpInterceptor({} as DiscoveryService, new TokenRequestAuthorizer(tokens));
  interceptor.instrument(instance);
  interceptor.instrument(instance); // idempotent
  return { instance, interceptor, tokens, sent, minted: () => minted };
}

describe('TokenHttpInterceptor', () => {
  it('installs once per axios instance and takes itself off on shutdown', () => {
    const { instance, interceptor } = setUp();
    expect(instance.interceptors.request.handlers?.filter(Boolean)).toHaveLength(1);
    expect(instance.interceptors.response.handlers?.filter(Boolean)).toHaveLength(1);
    interceptor.onApplicationShutdown();
    expect(instance.interceptors.request.handlers?.filter(Boolean)).toHaveLength(0);
  });

  it('leaves requests with no provider in effect untouched', async () => {
    const { instance, sent } = setUp();
    await instance.get('https://a.test/x');
    await runWithTokenProvider('kling', () => instance.get('https://a.test/x', { token: false }));
    expect(sent).toEqual([undefined, undefined]);
  });

  it('never sends a token over plain http to a host that is not loopback', async () => {
    const { instance, sent } = setUp();
    await instance.get('http://example.com/x', { token: 'kling' });
    await instance.get('http://127.0.0.1/x', { token: 'kling' });
    expect(sent).toEqual([undefined, 'Bearer t1']);
    const strict = setUp({ strictOrigin: true });
    await expect(strict.instance.get('http://example.com/x', { token: 'kling' })).rejects.toBeInstanceOf(
      TokenOriginError,
    );
    expect(strict.sent).toEqual([]);
    const optedIn = setUp({ allowInsecureHttp: true });
    await optedIn.instance.get('http://example.com/x', { token: 'kling' });
    expect(optedIn.sent).toEqual(['Bearer t1']);
  });

  it('retries a 401 once with a new token, and never loops', async () => {
    const once = setUp({}, [401, 200]);
    await expect(once.instance.get('https://a.test/x', { token: 'kling' })).resolves.toMatchObject({
      status: 200,
    });
    expect(once.sent).toEqual(['Bearer t1', 'Bearer t2']);
    expect(once.tokens.getStats().unauthorizedRetries).toBe(1);

    const always = setUp({}, [401]);
    await expect(always.instance.get('https://a.test/x', { token: 'kling' })).rejects.toMatchObject({
      response: { status: 401 },
    });
    expect(always.sent).toEqual(['Bearer t1', 'Bearer t2']);
  });

  it('does not evict a token someone already replaced', async () => {
    let replaced = false;
    const replaceOnce = async () => {
      if (replaced) return;
      replaced = true;
      // While t1 is in flight, another caller gets it rejected and replaces it with t2…
      await tokens.invalidate('kling', { onlyIfToken: 't1' });
      await tokens.getToken('kling');
    };
    const { instance, tokens, sent, minted } = setUp({}, [401, 200], replaceOnce);
    await instance.get('https://a.test/x', { token: 'kling' });
    expect(minted()).toBe(2); // …so the 401 of t1 does not evict t2: the retry uses it
    expect(sent).toEqual(['Bearer t1', 'Bearer t2']);
  });

  it('does not retry a streamed body', async () => {
    const { instance, sent } = setUp({}, [401, 200]);
    const { Readable } = await import('node:stream');
    await expect(
      instance.post('https://a.test/x', Readable.from(['body']), { token: 'kling' }),
    ).rejects.toMatchObject({ response: { status: 401 } });
    expect(sent).toHaveLength(1);
  });
});

describe('TokenHttpInterceptor on 401 and 403', () => {
  type Answer = number | { status: number; wwwAuthenticate?: string; location?: string } | Error;
  /** Like setUp, with `WWW-Authenticate` headers and plain errors among the answers. */
  function answering(answers: Answer[], options: ProviderOptions = {}) {
    const base = setUp(options, [200]);
    const sent: (string | undefined)[] = [];
    const adapter: AxiosAdapter = async (config) => {
      sent.push(config.headers.get('Authorization') as string | undefined);
      const answer = answers[Math.min(sent.length - 1, answers.length - 1)];
      if (answer instanceof Error) throw answer;
      const { status, wwwAuthenticate, location } = typeof answer === 'number' ? { status: answer } : answer;
      const headers = {
        ...(wwwAuthenticate === undefined ? {} : { 'www-authenticate': wwwAuthenticate }),
        ...(location === undefined ? {} : { location }),
      };
      const response = { data: null, status, statusText: '', headers, config };
      if (status >= 400) throw new AxiosError('failed', 'ERR_BAD_REQUEST', config, undefined, response);
      return response;
    };
    const instance = axios.create({ adapter });
    base.interceptor.instrument(instance);
    return { instance, sent, tokens: base.tokens };
  }

  const SCOPE = 'Bearer error="insufficient_scope", scope="videos:write"';
  it.each<[string, Answer[], { token?: string | false; headers?: Record<string, string> }, string, number]>([
    ['a 401 to a request with the token', [401, 200], { token: 'kling' }, 'status 200', 2],
    ['a 401 whose retry fails too', [401], { token: 'kling' }, 'status 401', 2],
    ['a 403 without insufficient_scope', [403, 200], { token: 'kling' }, 'status 403', 1],
    ['a 500', [500, 200], { token: 'kling' }, 'status 500', 1],
    ['a 404', [404, 200], { token: 'kling' }, 'status 404', 1],
    ['an error without a response', [new Error('socket hang up'), 200], { token: 'kling' }, 'Error', 1],
    [
      'an axios error without a response',
      [new AxiosError('socket hang up', 'ECONNRESET'), 200],
      { token: 'kling' },
      'AxiosError',
      1,
    ],
    [
      'a 401 from a hop the token did not go to',
      [{ status: 302, location: 'https://b.test/y' }, 401, 200],
      { token: 'kling' },
      'status 401',
      2,
    ],
    [
      'a 401 after a redirect that kept the token',
      [{ status: 302, location: '/y' }, 401, 200],
      { token: 'kling' },
      'status 200',
      3,
    ],
    ['a 401 to a request without a provider', [401, 200], {}, 'status 401', 1],
    ['a 401 to a request with token: false', [401, 200], { token: false }, 'status 401', 1],
    [
      "a 401 to a request with the caller's own Authorization",
      [401, 200],
      { token: 'kling', headers: { Authorization: 'Bearer mine' } },
      'status 401',
      1,
    ],
    [
      'a 403 insufficient_scope',
      [{ status: 403, wwwAuthenticate: SCOPE }, 200],
      { token: 'kling' },
      'TokenInsufficientScopeError 403 videos:write',
      1,
    ],
    [
      'a 401 insufficient_scope',
      [{ status: 401, wwwAuthenticate: SCOPE }, 200],
      { token: 'kling' },
      'TokenInsufficientScopeError 401 videos:write',
      1,
    ],
    [
      'a 401 invalid_token',
      [{ status: 401, wwwAuthenticate: 'Bearer error="invalid_token"' }, 200],
      { token: 'kling' },
      'status 200',
      2,
    ],
  ])(
    '%s (answers %j, config %j) → %s after %i request(s)',
    async (_case, answers, config, outcome, requests) => {
      const { instance, sent } = answering(answers, { baseUrls: ['https://a.test'] });
      let failure: unknown;
      const result = await instance.get('https://a.test/x', config).then(
        (response) => `status ${response.status}`,
        (error: unknown) => {
          failure = error;
          return error instanceof TokenInsufficientScopeError
            ? `TokenInsufficientScopeError ${error.status} ${error.requiredScope}`
            : error instanceof AxiosError && error.response
              ? `status ${error.response.status}`
              : (error as Error).name;
        },
      );
      expect(result).toBe(outcome);
      expect(sent).toHaveLength(requests);
      if (failure instanceof TokenInsufficientScopeError) {
        expect(failure).toMatchObject({ provider: 'kling', origin: 'https://a.test' });
      }
    },
  );
});

describe('TokenHttpInterceptor installation', () => {
  const INSTALLED_BY = Symbol.for('nest-token-manager:axios-installed-by');
  const handlers = (instance: AxiosInstance) =>
    instance.interceptors.request.handlers?.filter(Boolean).length;

  it('instruments the HttpService instances of static providers at start-up', () => {
    const tokens = new TokenService();
    const shared = new HttpService(axios.create());
    const requestScoped = new HttpService(axios.create());
    const providers = [
      { isDependencyTreeStatic: () => true, instance: shared },
      { isDependencyTreeStatic: () => false, instance: requestScoped },
      { isDependencyTreeStatic: () => true, instance: { axiosRef: axios.create() } },
    ];
    const discovery = { getProviders: () => providers } as unknown as DiscoveryService;
    const interceptor = new TokenHttpInterceptor(discovery, new TokenRequestAuthorizer(tokens));
    const logs = new LogCapture().install();
    try {
      interceptor.onModuleInit();
      interceptor.instrument(shared); // already there: nothing to do, nothing to say
    } finally {
      logs.restore();
    }
    expect(logs.lines).toEqual([]);
    expect(handlers(shared.axiosRef)).toBe(1);
    expect(handlers(requestScoped.axiosRef)).toBe(0);
    // The mark is hidden: a copy of the instance is not taken for an instrumented one.
    expect(Object.getOwnPropertySymbols({ ...shared.axiosRef })).not.toContain(INSTALLED_BY);
    interceptor.onApplicationShutdown();
    expect(handlers(shared.axiosRef)).toBe(0);
    expect(Object.getOwnPropertySymbols(shared.axiosRef)).not.toContain(INSTALLED_BY);
  });

  it("leaves an instance that carries another application's interceptors as it is, and says so", () => {
    const logs = new LogCapture().install();
    try {
      const instance = axios.create();
      const authorizer = new TokenRequestAuthorizer(new TokenService());
      const first = new TokenHttpInterceptor({} as DiscoveryService, authorizer);
      const second = new TokenHttpInterceptor({} as DiscoveryService, authorizer);
      first.instrument(instance);
      second.instrument(new HttpService(instance));
      expect(handlers(instance)).toBe(1);
      expect(logs.lines).toEqual([
        'warn an axios instance already carries the token interceptors of another application; left as is TokenHttp',
      ]);
      second.onApplicationShutdown();
      expect(handlers(instance)).toBe(1);
    } finally {
      logs.restore();
    }
  });
});
