import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import axios, { type AxiosInstance } from 'axios';
import { TokenModule, TokenService } from '@app/token';
import { API_ORIGIN, API_SECRET, countingJwt, customProvider } from './support/http-clients.js';
import {
  FeatureAClient,
  FeatureAModule,
  FeatureBClient,
  FeatureBModule,
  FeatureCClient,
  FeatureDClient,
  FeatureDModule,
  featureCModule,
} from './support/http-feature-modules.js';
import { startJwtApi, type TestApi } from './support/http-servers.js';

const installedRequestInterceptors = (instance: AxiosInstance) =>
  (instance.interceptors.request.handlers ?? []).filter(Boolean).length;

describe('HttpModule imported by several feature modules', () => {
  let api: TestApi;
  let app: TestingModule;

  beforeAll(async () => {
    api = await startJwtApi(API_SECRET);
    @Module({
      providers: [{ provide: API_ORIGIN, useValue: api.origin }],
      exports: [API_ORIGIN],
    })
    class ApiOriginModule {}
    app = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          providers: { kling: customProvider(countingJwt('kling-ak'), { baseUrls: [api.origin] }) },
          refresh: { enabled: false },
        }),
        { module: ApiOriginModule, global: true },
        FeatureAModule,
        FeatureBModule,
        featureCModule(api.origin),
        FeatureDModule,
      ],
    }).compile();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('sets the header once per request, through every HttpService, and runs the interceptor once', async () => {
    const clients = [FeatureAClient, FeatureBClient, FeatureCClient, FeatureDClient].map((type) =>
      app.get(type),
    );
    const instances = new Set(clients.map((client) => client.http.axiosRef));
    expect(instances.size).toBe(2); // axios' default instance (A, B, D) and C's own
    for (const instance of instances) expect(installedRequestInterceptors(instance)).toBe(1);

    const getToken = jest.spyOn(app.get(TokenService), 'getToken');
    for (const client of clients) await expect(client.call()).resolves.toBe(200);
    expect(getToken).toHaveBeenCalledTimes(clients.length);
    expect(api.seen).toHaveLength(clients.length);
    for (const seen of api.seen) {
      expect(seen.authorization).toHaveLength(1);
      expect(seen.authorization[0]).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      expect(seen.issuer).toBe('kling-ak');
    }
    getToken.mockRestore();
  });

  it('a config sent again (outside any context) carries a fresh copy of our header, not a second one', async () => {
    const client = app.get(FeatureAClient);
    api.seen.length = 0;
    const { config } = await client.http.axiosRef.get(`${api.origin}/v1/whoami`, { token: 'kling' });
    await client.http.axiosRef.request(config);
    expect(api.seen.map((seen) => seen.authorization.length)).toEqual([1, 1]);
    expect(api.seen[1].issuer).toBe('kling-ak');
  });

  it('takes its interceptors off on shutdown, so the shared axios instance is left clean', async () => {
    const other = await Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          providers: { kling: customProvider(countingJwt('x')) },
          refresh: { enabled: false },
        }),
        FeatureDModule,
        {
          module: class Origin {},
          global: true,
          providers: [{ provide: API_ORIGIN, useValue: '' }],
          exports: [API_ORIGIN],
        },
      ],
    }).compile();
    await other.init(); // the default instance already belongs to `app`: left as is
    expect(installedRequestInterceptors(axios)).toBe(1);
    await other.close();
    expect(installedRequestInterceptors(axios)).toBe(1);
    await app.close();
    expect(installedRequestInterceptors(axios)).toBe(0);
  });
});
