import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { TokenOriginError, TokenService } from '@app/token';
import {
  API_SECRET,
  KlingClient,
  countingJwt,
  createHttpTestApp,
  customProvider,
  type CountingStrategy,
} from './support/http-clients.js';
import { startJwtApi, type TestApi } from './support/http-servers.js';
import { LogCapture } from './support/log-capture.js';

describe('the axios interceptor (real loopback servers)', () => {
  let api: TestApi;
  let elsewhere: TestApi;
  let logs: LogCapture;

  beforeAll(async () => {
    api = await startJwtApi(API_SECRET);
    elsewhere = await startJwtApi(API_SECRET);
  });
  afterAll(async () => {
    await api?.close();
    await elsewhere?.close();
  });
  beforeEach(() => {
    logs = new LogCapture().install();
    api.seen.length = 0;
    elsewhere.seen.length = 0;
    api.unauthorized = 'never';
  });
  afterEach(() => logs.restore());

  async function start(options: { strictOrigin?: boolean } = {}) {
    const kling = countingJwt('kling-ak');
    const app = await createHttpTestApp(
      api.origin,
      {
        kling: customProvider(kling, { baseUrls: [`${api.origin}/v1`], ...options }),
        other: customProvider(countingJwt('other-ak')),
      },
      logs,
    );
    return { app, kling, client: app.get(KlingClient), tokens: app.get(TokenService) };
  }

  describe('on a cold cache', () => {
    let app: TestingModule;
    afterEach(() => app?.close());

    it('1,000 concurrent requests cause exactly one token request', async () => {
      let kling: CountingStrategy;
      let client: KlingClient;
      ({ app, kling, client } = await start());
      const issuers = await Promise.all(Array.from({ length: 1_000 }, () => client.whoAmI()));
      expect(kling.calls).toBe(1);
      expect(new Set(issuers)).toEqual(new Set(['kling-ak']));
      expect(api.seen).toHaveLength(1_000);
      expect(new Set(api.seen.map((seen) => seen.authorization.join('|'))).size).toBe(1);
    });
  });

  describe('origin binding', () => {
    let app: TestingModule;
    afterEach(() => app?.close());

    it('never sends the token outside "baseUrls"; warns once per provider and origin', async () => {
      let client: KlingClient;
      ({ app, client } = await start());
      await expect(client.get(`${elsewhere.origin}/v1/whoami`)).resolves.toBe(200);
      await expect(client.get(`${elsewhere.origin}/other`)).resolves.toBe(200);
      // An explicit per-request token is bound by the same rule.
      await expect(client.get(`${elsewhere.origin}/v1/whoami`, { token: 'kling' })).resolves.toBe(200);
      // The same origin through axios' baseURL + a relative url is recognised as such.
      await expect(client.get('/x', { baseURL: `${elsewhere.origin}/v1` })).resolves.toBe(200);
      expect(elsewhere.seen.map((seen) => seen.authorization)).toEqual([[], [], [], []]);
      const warnings = logs.lines.filter(
        (line) => line.startsWith('warn') && line.includes('without its token'),
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(elsewhere.origin);
      // The allowed origin still gets it, whatever the path (only scheme, host and port count).
      await expect(client.get(`${api.origin}/anything`)).resolves.toBe(200);
      expect(api.seen[0].issuer).toBe('kling-ak');
    });

    it('strictOrigin rejects such a request with TokenOriginError before it is sent', async () => {
      let client: KlingClient;
      ({ app, client } = await start({ strictOrigin: true }));
      const failure = client.get(`${elsewhere.origin}/v1/whoami?secret=s3cr3t`);
      await expect(failure).rejects.toBeInstanceOf(TokenOriginError);
      await expect(failure).rejects.toMatchObject({ code: 'TOKEN_ORIGIN_NOT_ALLOWED', provider: 'kling' });
      await expect(failure).rejects.toThrow(elsewhere.origin);
      await failure.catch((error: Error) => expect(error.message).not.toContain('s3cr3t'));
      expect(elsewhere.seen).toHaveLength(0);
      await expect(client.whoAmI()).resolves.toBe('kling-ak');
    });
  });

  describe('401 recovery', () => {
    let app: TestingModule;
    afterEach(() => app?.close());

    it('401 once: one eviction, one new token, one retry, success', async () => {
      let kling: CountingStrategy;
      let client: KlingClient;
      let tokens: TokenService;
      ({ app, kling, client, tokens } = await start());
      await tokens.getToken('kling');
      api.unauthorized = 'once';
      await expect(client.whoAmI()).resolves.toBe('kling-ak');
      expect(kling.calls).toBe(2);
      expect(api.seen.map((seen) => seen.status)).toEqual([401, 200]);
      expect(api.seen.every((seen) => seen.authorization.length === 1)).toBe(true);
      expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(1);
      expect(tokens.getStats().unauthorizedRetries).toBe(1);
    });

    it('a burst of 401s for the same token evicts it once', async () => {
      let kling: CountingStrategy;
      let client: KlingClient;
      let tokens: TokenService;
      ({ app, kling, client, tokens } = await start());
      await tokens.getToken('kling');
      api.unauthorized = 'always';
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.whoAmI()));
      expect(results.every((result) => result.status === 'rejected')).toBe(true);
      // 20 requests rejected, 20 retries, but the rejected token was evicted (and replaced) once.
      expect(kling.calls).toBe(2);
      expect(api.seen).toHaveLength(40);
      expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(20);
    });

    it('401 always: the caller gets the 401 after a single retry', async () => {
      let kling: CountingStrategy;
      let client: KlingClient;
      let tokens: TokenService;
      ({ app, kling, client, tokens } = await start());
      api.unauthorized = 'always';
      await expect(client.whoAmI()).rejects.toMatchObject({ response: { status: 401 } });
      expect(api.seen.map((seen) => seen.status)).toEqual([401, 401]);
      expect(kling.calls).toBe(2);
      expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(1);
    });

    it('a 401 to a request sent without our token is not retried', async () => {
      let client: KlingClient;
      let tokens: TokenService;
      ({ app, client, tokens } = await start());
      api.unauthorized = 'always';
      await expect(client.whoAmI({ headers: { Authorization: 'Bearer theirs' } })).rejects.toMatchObject({
        response: { status: 401 },
      });
      expect(api.seen).toHaveLength(1);
      expect(tokens.getStats().unauthorizedRetries).toBe(0);
    });
  });
});
