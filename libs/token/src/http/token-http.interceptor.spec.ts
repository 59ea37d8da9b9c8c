import { describe, expect, it } from '@jest/globals';
import type { DiscoveryService } from '@nestjs/core';
import axios, { AxiosError, type AxiosAdapter, type InternalAxiosRequestConfig } from 'axios';
import { ManualClock } from '../clock.js';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import { TokenOriginError } from '../token.errors.js';
import { TokenInfo } from '../token-info.js';
import { TokenService } from '../token.service.js';
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
