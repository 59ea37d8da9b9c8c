import { describe, expect, it } from '@jest/globals';
import type { DiscoveryService } from '@nestjs/core';
import axios, {
  AxiosError,
  AxiosHeaders,
  type AxiosAdapter,
  type AxiosRequestConfig,
  type InternalAxiosRequestConfig,
} from 'axios';
import { Readable } from 'node:stream';
import { ManualClock } from '../core/clock.js';
import { TokenInfo } from '../core/token-info.js';
import { TokenService } from '../module/token.service.js';
import { isStream } from './token-http.adapter.js';
import { TokenHttpInterceptor } from './token-http.interceptor.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';

interface Sent {
  url: string;
  method: string;
  headers: Record<string, unknown>;
  data: unknown;
  params: unknown;
  maxRedirects: number | undefined;
  auth: unknown;
}

/**
 * An axios instance whose adapter answers from `routes` (url → [status, location?]; anything else
 * 200) the way axios' own adapters do with `maxRedirects: 0`: a 3xx is settled like any status.
 */
function setUp(routes: Record<string, [number, string?]> = {}) {
  const clock = new ManualClock(1_000_000);
  const tokens = new TokenService({ clock });
  tokens.register(
    'api',
    {
      cacheKey: 'api',
      generate: async () => new TokenInfo({ token: 't1', expiresAt: clock.now() + 3_600_000 }),
    },
    { baseUrls: ['https://api.test'] },
  );
  const sent: Sent[] = [];
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    sent.push({
      url: config.url ?? '',
      method: config.method ?? '',
      headers: config.headers.toJSON(),
      data: config.data,
      params: config.params,
      maxRedirects: config.maxRedirects,
      auth: config.auth,
    });
    const [status, location] = routes[config.url ?? ''] ?? [200];
    const headers = new AxiosHeaders(location === undefined ? {} : { location });
    const response = { data: null, status, statusText: '', headers, config };
    if (status >= 300) throw new AxiosError('failed', 'ERR_BAD_RESPONSE', config, undefined, response);
    return response;
  };
  const instance = axios.create({ adapter });
  new TokenHttpInterceptor({} as DiscoveryService, new TokenRequestAuthorizer(tokens)).instrument(instance);
  const post = (url: string, config: AxiosRequestConfig = {}) =>
    instance.post(url, '{"a":1}', {
      token: 'api',
      headers: { 'content-type': 'application/json', cookie: 'session=1' },
      ...config,
    });
  return { instance, sent, post };
}

describe('the token adapter', () => {
  it.each([
    [303, 'https://api.test/next', 'get', undefined, 'session=1'],
    [307, 'https://api.test/next', 'post', '{"a":1}', 'session=1'],
    [303, 'https://other.test/next', 'get', undefined, undefined],
    [308, 'https://other.test/next', 'post', '{"a":1}', undefined],
  ])('%i to %s: %s with body %s, cookie %s', async (status, to, method, data, cookie) => {
    const { sent, post } = setUp({ 'https://api.test/start': [status, to] });
    await post('https://api.test/start', { auth: { username: 'u', password: 'p' }, params: { q: 1 } });
    expect(sent).toHaveLength(2);
    const [first, next] = sent;
    expect(first).toMatchObject({ url: 'https://api.test/start', maxRedirects: 0, params: { q: 1 } });
    expect(first.headers.Authorization).toBe('Bearer t1');
    expect(next).toMatchObject({ url: to, method, data, params: undefined });
    expect(next.headers.cookie).toBe(cookie);
    expect(next.headers.Authorization).toBe(to.startsWith('https://api.test') ? 'Bearer t1' : undefined);
    expect(next.auth).toEqual(
      to.startsWith('https://api.test') ? { username: 'u', password: 'p' } : undefined,
    );
    expect(next.headers['Content-Type'] ?? next.headers['content-type']).toBe(
      data === undefined ? undefined : 'application/json',
    );
  });

  it('sends a request with no token, or with the caller’s own header, to the adapter as it is', async () => {
    const { sent, instance } = setUp({ 'https://api.test/start': [302, 'https://other.test/'] });
    await expect(instance.get('https://api.test/start')).rejects.toMatchObject({ response: { status: 302 } });
    await expect(
      instance.get('https://api.test/start', { token: 'api', headers: { Authorization: 'Basic mine' } }),
    ).rejects.toMatchObject({ response: { status: 302 } });
    expect(sent.map((request) => [request.maxRedirects, request.headers.Authorization])).toEqual([
      [undefined, undefined],
      [undefined, 'Basic mine'],
    ]);
  });

  it('an application interceptor that swaps the adapter after ours only loses the token', async () => {
    const { sent, instance } = setUp();
    const theirs: AxiosAdapter = async (config) => {
      sent.push({ url: config.url ?? '', headers: config.headers.toJSON() } as Sent);
      return { data: null, status: 200, statusText: '', headers: {}, config };
    };
    instance.interceptors.request.use(
      (config) => ({ ...config, adapter: theirs }) as InternalAxiosRequestConfig,
    );
    // Registered after ours, it runs before ours: ours wraps it.
    await instance.get('https://api.test/x', { token: 'api' });
    expect(sent[0].headers.Authorization).toBe('Bearer t1');
    // Registered before ours, it runs after ours and replaces our adapter: no token at all.
    const late = setUp();
    late.instance.interceptors.request.handlers?.unshift({
      fulfilled: (config: InternalAxiosRequestConfig) => ({ ...config, adapter: theirs }),
      rejected: undefined,
      synchronous: false,
      runWhen: null,
    } as never);
    sent.length = 0;
    await late.instance.get('https://api.test/x', { token: 'api' });
    expect(sent.map((request) => request.headers.Authorization)).toEqual([undefined]);
  });

  it('does not follow an unparseable Location, nor a 307 whose body was a stream', async () => {
    const bad = setUp({ 'https://api.test/start': [302, 'http://[::1'] });
    await expect(bad.post('https://api.test/start')).rejects.toMatchObject({ response: { status: 302 } });
    expect(bad.sent).toHaveLength(1);
    const streamed = setUp({ 'https://api.test/start': [307, 'https://api.test/next'] });
    await expect(
      streamed.instance.post('https://api.test/start', Readable.from(['body']), { token: 'api' }),
    ).rejects.toMatchObject({ response: { status: 307 } });
    expect(streamed.sent).toHaveLength(1);
  });

  it('the response and the error name the config the caller made, not a hop', async () => {
    const { post } = setUp({ 'https://api.test/start': [302, 'https://api.test/final'] });
    const response = await post('https://api.test/start');
    expect(response.config.url).toBe('https://api.test/start');
    const failing = setUp({
      'https://api.test/start': [302, 'https://api.test/gone'],
      'https://api.test/gone': [404],
    });
    const error = await failing.post('https://api.test/start').catch((caught: AxiosError) => caught);
    expect(error).toMatchObject({ response: { status: 404 }, config: { url: 'https://api.test/start' } });
  });
});

describe('the token adapter, hop by hop', () => {
  interface Hop {
    url: string;
    authorization: unknown;
    timeout: number | undefined;
    httpsAgent: unknown;
  }
  /** An axios instance answering `routes` (url → status, location, body); plain-object headers. */
  function routed(routes: Record<string, [number, string?, unknown?]>, adapterName?: 'fetch') {
    const hops: Hop[] = [];
    const adapter: AxiosAdapter = async (config) => {
      hops.push({
        url: config.url ?? '',
        authorization: config.headers.get('Authorization'),
        timeout: config.timeout,
        httpsAgent: config.httpsAgent,
      });
      const [status, location, data] = routes[config.url ?? ''] ?? [200];
      const response = {
        data: data ?? null,
        status,
        statusText: '',
        headers: location ? { location } : {},
        config,
      };
      if (status >= 300) throw new AxiosError('failed', 'ERR_BAD_RESPONSE', config, undefined, response);
      return response;
    };
    const instance = axios.create({ adapter: adapterName ?? adapter });
    const tokens = new TokenService();
    tokens.register(
      'api',
      {
        cacheKey: 'api',
        generate: async () => new TokenInfo({ token: 't1', expiresAt: Date.now() + 3_600_000 }),
      },
      { baseUrls: ['https://api.test'] },
    );
    new TokenHttpInterceptor({} as DiscoveryService, new TokenRequestAuthorizer(tokens)).instrument(instance);
    return { instance, hops };
  }

  it('reads Location from plain-object headers too, and closes the body of a redirect it follows', async () => {
    const body = Readable.from(['redirect body']);
    const { instance, hops } = routed({ 'https://api.test/a': [302, '/b', body] });
    await instance.get('https://api.test/a', { token: 'api' });
    expect(hops.map((hop) => [hop.url, hop.authorization])).toEqual([
      ['https://api.test/a', 'Bearer t1'],
      ['https://api.test/b', 'Bearer t1'],
    ]);
    expect(body.destroyed).toBe(true);
  });

  it('an empty Location is no redirect', async () => {
    const { instance, hops } = routed({ 'https://api.test/a': [302, ''] });
    await expect(instance.get('https://api.test/a', { token: 'api' })).rejects.toMatchObject({
      response: { status: 302 },
    });
    expect(hops).toHaveLength(1);
  });

  it.each<[number | undefined, number, string]>([
    [0, 1, 'the redirect is the answer'],
    [1, 2, 'one redirect followed'],
    [2, 3, 'two redirects followed, the third refused'],
  ])('maxRedirects %s: %i request(s), %s', async (maxRedirects, requests, _outcome) => {
    const { instance, hops } = routed({
      'https://api.test/1': [302, '/2'],
      'https://api.test/2': [302, '/3'],
      'https://api.test/3': [302, '/4'],
    });
    const result = await instance.get('https://api.test/1', { token: 'api', maxRedirects }).then(
      () => 'ok',
      (error: AxiosError) => error.code ?? String(error.response?.status),
    );
    expect(hops).toHaveLength(requests);
    expect(result).toBe(maxRedirects === 0 ? 'ERR_BAD_RESPONSE' : 'ERR_FR_TOO_MANY_REDIRECTS');
  });

  it('the timeout bounds the whole chain: each hop gets what is left of it', async () => {
    const { instance, hops } = routed({ 'https://api.test/a': [302, '/b'] });
    await instance.get('https://api.test/a', { token: 'api', timeout: 60_000 });
    expect(hops[0].timeout).toBe(60_000);
    expect(hops[1].timeout).toBeGreaterThan(0);
    expect(hops[1].timeout).toBeLessThanOrEqual(60_000);
    const untimed = routed({ 'https://api.test/a': [302, '/b'] });
    await untimed.instance.get('https://api.test/a', { token: 'api' });
    expect(untimed.hops.map((hop) => hop.timeout)).toEqual([0, 0]);
  });

  it("keeps the caller's httpsAgent on every hop when the provider has no certificate", async () => {
    const agent = { name: 'agent' };
    const { instance, hops } = routed({ 'https://api.test/a': [302, 'https://other.test/b'] });
    await instance.get('https://api.test/a', { token: 'api', httpsAgent: agent });
    expect(hops.map((hop) => hop.httpsAgent)).toEqual([agent, agent]);
  });

  it('a config sent again renews our own header, and drops it where the token may not go', async () => {
    const { instance, hops } = routed({});
    const first = await instance.get('https://api.test/a', { token: 'api' });
    const config = first.config;
    await instance.request({ ...config, url: 'https://api.test/again' });
    await instance.request({ ...config, url: 'https://other.test/x' });
    expect(hops.map((hop) => [hop.url, hop.authorization])).toEqual([
      ['https://api.test/a', 'Bearer t1'],
      ['https://api.test/again', 'Bearer t1'],
      ['https://other.test/x', undefined],
    ]);
  });

  it.each<[unknown, boolean]>([
    [Readable.from(['x']), true],
    [new Blob(['x']).stream(), true],
    ['text', false],
    [Buffer.from('x'), false],
    [{ pipe: 'not a function' }, false],
    [null, false],
    [undefined, false],
  ])('isStream(%p) → %s', (data, expected) => {
    expect(isStream(data)).toBe(expected);
  });
});
