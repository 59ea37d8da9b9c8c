import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ContextIdFactory } from '@nestjs/core';
import type { TestingModule } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { runWithTokenProvider } from '@app/token';
import {
  API_SECRET,
  KlingClient,
  PlainClient,
  RequestScopedClient,
  TransientClient,
  createHttpTestApp,
} from './support/http-clients.js';
import { startJwtApi, type TestApi } from './support/http-servers.js';

describe('@UseToken and the per-request option (axios, real loopback API verifying the JWT)', () => {
  let api: TestApi;
  let app: TestingModule;

  beforeAll(async () => {
    api = await startJwtApi(API_SECRET);
    app = await createHttpTestApp(api.origin, {
      kling: { type: 'jwt', accessKey: 'kling-ak', secretKey: API_SECRET, baseUrls: [api.origin] },
      other: { type: 'jwt', accessKey: 'other-ak', secretKey: API_SECRET },
    });
  });

  afterAll(async () => {
    await app?.close();
    await api?.close();
  });

  it('a @UseToken("kling") class gets 200s with the kling JWT', async () => {
    const kling = app.get(KlingClient);
    await expect(kling.whoAmI()).resolves.toBe('kling-ak');
    await expect(kling.whoAmIAfterAwaits()).resolves.toBe('kling-ak');
    const lazy = kling.whoAmILazily(); // subscribed here, after the method returned
    await expect(firstValueFrom(lazy)).resolves.toMatchObject({ data: { issuer: 'kling-ak' } });
    const last = api.seen.at(-1)!;
    expect(last.status).toBe(200);
    expect(last.authorization).toHaveLength(1);
    expect(last.authorization[0]).toMatch(/^Bearer ey/);
  });

  it('a class without the decorator sends no header', async () => {
    const before = api.seen.length;
    await expect(app.get(PlainClient).whoAmI()).resolves.toBeNull();
    expect(api.seen.slice(before).map((seen) => seen.authorization)).toEqual([[]]);
  });

  it('a method-level decorator overrides the class-level one, also through the class’s helpers', async () => {
    await expect(app.get(KlingClient).whoAmIAsOther()).resolves.toBe('other-ak');
    await expect(app.get(PlainClient).whoAmIAsOther()).resolves.toBe('other-ak');
    await expect(app.get(KlingClient).anonymously()).resolves.toBeNull();
  });

  it('the per-request option overrides both, and token: false disables', async () => {
    const kling = app.get(KlingClient);
    const plain = app.get(PlainClient);
    await expect(kling.whoAmI({ token: 'other' })).resolves.toBe('other-ak');
    await expect(plain.whoAmI({ token: 'kling' })).resolves.toBe('kling-ak');
    await expect(kling.whoAmI({ token: false })).resolves.toBeNull();
    await expect(runWithTokenProvider('other', () => plain.whoAmI())).resolves.toBe('other-ak');
  });

  it('never overwrites an Authorization header the caller set', async () => {
    const before = api.seen.length;
    await expect(
      app.get(KlingClient).whoAmI({ headers: { Authorization: 'Bearer mine' } }),
    ).rejects.toMatchObject({
      response: { status: 401 },
    });
    // The caller's header went out as is, and a 401 to it is not retried with ours.
    expect(api.seen.slice(before).map((seen) => seen.authorization)).toEqual([['Bearer mine']]);
  });

  it('request-scoped and transient @UseToken classes work', async () => {
    const scoped = await app.resolve(RequestScopedClient, ContextIdFactory.create());
    const another = await app.resolve(RequestScopedClient, ContextIdFactory.create());
    expect(scoped).not.toBe(another);
    await expect(scoped.whoAmI()).resolves.toBe('kling-ak');
    await expect(another.whoAmI()).resolves.toBe('kling-ak');
    const transient = await app.resolve(TransientClient);
    await expect(transient.whoAmI()).resolves.toBe('other-ak');
  });
});
