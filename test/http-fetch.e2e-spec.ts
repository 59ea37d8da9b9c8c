import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  TokenFetch,
  TokenModule,
  TokenOriginError,
  TokenService,
  createTokenFetch,
  runWithTokenProvider,
  type TokenFetchFunction,
} from '@app/token';
import { API_SECRET, countingJwt, customProvider, type CountingStrategy } from './support/http-clients.js';
import { startJwtApi, type TestApi } from './support/http-servers.js';

describe('the fetch wrapper (real loopback servers)', () => {
  let api: TestApi;
  let elsewhere: TestApi;
  let app: TestingModule;
  let tokens: TokenService;
  let kling: CountingStrategy;
  let klingFetch: TokenFetchFunction;

  beforeAll(async () => {
    api = await startJwtApi(API_SECRET);
    elsewhere = await startJwtApi(API_SECRET);
  });
  afterAll(async () => {
    await api?.close();
    await elsewhere?.close();
  });

  beforeEach(async () => {
    api.seen.length = 0;
    elsewhere.seen.length = 0;
    api.unauthorized = 'never';
    kling = countingJwt('kling-ak');
    app = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          providers: {
            kling: customProvider(kling, { baseUrls: [api.origin] }),
            strict: customProvider(countingJwt('strict-ak'), { baseUrls: [api.origin], strictOrigin: true }),
          },
          refresh: { enabled: false },
        }),
      ],
    }).compile();
    await app.init();
    tokens = app.get(TokenService);
    klingFetch = createTokenFetch(tokens, 'kling');
  });
  afterEach(() => app?.close());

  const issuerOf = async (response: Response) =>
    ((await response.json()) as { issuer: string | null }).issuer;

  it('attaches the header; a header the caller set is left alone; token: false sends none', async () => {
    expect(await issuerOf(await klingFetch(`${api.origin}/v1/whoami`))).toBe('kling-ak');
    expect(
      (await klingFetch(`${api.origin}/v1/whoami`, { headers: { authorization: 'Bearer mine' } })).status,
    ).toBe(401);
    expect(await issuerOf(await klingFetch(`${api.origin}/v1/whoami`, { token: false }))).toBeNull();
    expect(api.seen.map((seen) => seen.authorization.length)).toEqual([1, 1, 0]);
    expect(api.seen[1].authorization).toEqual(['Bearer mine']);
  });

  it('never sends the token outside "baseUrls"; strictOrigin rejects', async () => {
    expect((await klingFetch(`${elsewhere.origin}/v1/whoami`)).status).toBe(200);
    expect(elsewhere.seen.map((seen) => seen.authorization)).toEqual([[]]);
    const strictFetch = createTokenFetch(tokens, 'strict');
    await expect(strictFetch(`${elsewhere.origin}/v1/whoami`)).rejects.toBeInstanceOf(TokenOriginError);
    expect(elsewhere.seen).toHaveLength(1);
  });

  it('401 once: one new token, one retry with the same body, success', async () => {
    await tokens.getToken('kling');
    api.unauthorized = 'once';
    const request = new Request(`${api.origin}/v1/videos/text2video`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a cat surfing' }),
    });
    const response = await klingFetch(request);
    expect(response.status).toBe(200);
    expect(await issuerOf(response)).toBe('kling-ak');
    expect(api.seen.map((seen) => [seen.status, seen.body])).toEqual([
      [401, '{"prompt":"a cat surfing"}'],
      [200, '{"prompt":"a cat surfing"}'],
    ]);
    expect(kling.calls).toBe(2);
    expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(1);
  });

  it('401 always: the caller gets the 401 after a single retry; a stream body is not retried', async () => {
    api.unauthorized = 'always';
    expect((await klingFetch(`${api.origin}/v1/whoami`)).status).toBe(401);
    expect(api.seen).toHaveLength(2);
    expect(tokens.getStats().tokens.kling.unauthorizedRetries).toBe(1);

    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const streamed = await klingFetch(`${api.origin}/upload`, {
      method: 'POST',
      body,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(401);
    await streamed.body?.cancel();
    expect(api.seen).toHaveLength(3);
  });

  it('TokenFetch (injectable) follows the per-request option and the @UseToken context', async () => {
    const tokenFetch = app.get(TokenFetch);
    expect(await issuerOf(await tokenFetch.fetch(`${api.origin}/v1/whoami`))).toBeNull();
    expect(await issuerOf(await tokenFetch.fetch(`${api.origin}/v1/whoami`, { token: 'kling' }))).toBe(
      'kling-ak',
    );
    const inContext = await runWithTokenProvider('kling', () => tokenFetch.fetch(`${api.origin}/v1/whoami`));
    expect(await issuerOf(inContext)).toBe('kling-ak');
    expect(await issuerOf(await tokenFetch.forProvider('kling')(`${api.origin}/v1/whoami`))).toBe('kling-ak');
  });
});
