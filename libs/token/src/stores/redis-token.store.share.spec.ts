import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { deferred } from '../testing-support/stub-strategy.js';
import { LogCapture } from '../testing-support/log-capture.js';
import { mintToken, RedisStoreFixture, REDIS_URL, until } from '../testing-support/redis-store-fixture.js';
import { TokenInfo } from '../core/token-info.js';
import type { RedisStoreOptions } from '../config/redis-store.options.js';
import { StoreSignals } from './redis-store.signals.js';
import { RedisTokenStore } from './redis-token.store.js';
import { TokenEncryption } from './token-encryption.js';

/**
 * What the Redis store writes, announces and drops, against the Redis on 127.0.0.1:6379: the shared
 * entry and its expiry, the channel's messages, invalidate() with onlyIfToken, its state and close().
 */
const fixture = new RedisStoreFixture();
const always = () => true;
let logs: LogCapture | undefined;
const captureLogs = () => (logs = new LogCapture().install());
const warnings = (about: string) => (logs?.lines ?? []).filter((line) => line.includes(about));

afterEach(async () => {
  logs?.restore();
  logs = undefined;
  jest.restoreAllMocks();
  await fixture.closeAll();
});

afterAll(() => fixture.cleanup());

describe('RedisTokenStore: sharing a token', () => {
  it('stores the token for as long as it lives and announces it on the channel', async () => {
    const prefix = fixture.newPrefix();
    const messages = await fixture.listen(prefix);
    const store = fixture.newStore(prefix);
    const token = mintToken(60_000);
    await store.obtain('svc', async () => token, always);
    const ttlMs = await fixture.admin.pttl(`${prefix}token:svc`);
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(60_000);
    await store.invalidate('other'); // messages arrive in order: this one comes last
    await until(() => messages.some(({ k }) => k === 'other'));
    expect(messages).toEqual([
      { t: 'set', k: 'svc' },
      { t: 'invalidate', k: 'other' },
    ]);
  });

  it('announces nothing when storing the token failed', async () => {
    const prefix = fixture.newPrefix();
    const messages = await fixture.listen(prefix);
    fixture.failCommand('eval', (args) => args[2] === `${prefix}token:svc`); // the write (entry, generation)
    const store = fixture.newStore(prefix);
    const token = mintToken();
    expect(await store.obtain('svc', async () => token, always)).toBe(token);
    await store.invalidate('other');
    await until(() => messages.some(({ k }) => k === 'other'));
    expect(messages).toEqual([{ t: 'invalidate', k: 'other' }]);
    expect(await fixture.admin.exists(`${prefix}token:svc`)).toBe(0);
  });

  it('neither stores nor announces a token that has already expired, and reports no Redis error', async () => {
    captureLogs();
    const prefix = fixture.newPrefix();
    const store = fixture.newStore(prefix);
    const expired = new TokenInfo({
      token: 'expired',
      issuedAt: Date.now() - 5_000,
      expiresAt: Date.now() - 1_000,
    });
    expect(await store.obtain('svc', async () => expired, always)).toBe(expired);
    expect(await fixture.admin.exists(`${prefix}token:svc`)).toBe(0);
    expect(warnings('redis unavailable')).toEqual([]);
    expect(store.degraded).toBe(false);
  });

  it('does not store a token expiring the very millisecond it would be written', async () => {
    captureLogs();
    const prefix = fixture.newPrefix();
    const store = fixture.newStore(prefix);
    const generate = async () => {
      const now = Date.now();
      jest.spyOn(Date, 'now').mockReturnValue(now); // time stands still until obtain() returned
      return new TokenInfo({ token: 'expiring', issuedAt: now - 5_000, expiresAt: now });
    };
    const got = await store.obtain('svc', generate, always);
    jest.restoreAllMocks();
    expect(got.token).toBe('expiring');
    expect(await fixture.admin.exists(`${prefix}token:svc`)).toBe(0);
    expect(warnings('redis unavailable')).toEqual([]);
  });

  it('serves a token it cannot encrypt without storing it, and says so', async () => {
    captureLogs();
    const prefix = fixture.newPrefix();
    const token = mintToken(60_000, { unserialisable: 1n }); // JSON.stringify throws on a BigInt
    expect(await fixture.newStore(prefix).obtain('svc', async () => token, always)).toBe(token);
    expect(await fixture.admin.exists(`${prefix}token:svc`, `${prefix}gen:svc`)).toBe(0);
    expect(warnings('could not encrypt')).toEqual([
      'warn could not encrypt the token for "svc" (TypeError); not shared RedisTokenStore',
    ]);
  });

  it('treats an entry whose decryption fails unexpectedly as missing, without logging the error text', async () => {
    const prefix = fixture.newPrefix();
    const shared = mintToken();
    await fixture.writeEntry(prefix, 'svc', shared);
    captureLogs();
    jest
      .spyOn(TokenEncryption.prototype, 'decrypt')
      .mockRejectedValueOnce(new Error('unexpected failure, detail 7f3a'));
    // The read under the lease decrypts normally and serves the entry.
    let calls = 0;
    const got = await fixture.newStore(prefix).obtain('svc', async () => (calls++, mintToken()), always);
    expect(got.token).toBe(shared.token);
    expect(calls).toBe(0);
    expect(warnings('cannot be decrypted')).toEqual([
      'warn shared token for "svc" cannot be decrypted (invalid entry); treating it as missing RedisTokenStore',
    ]);
    expect(logs!.lines.join('\n')).not.toContain('7f3a');
  });
});

describe('RedisTokenStore.invalidate with onlyIfToken', () => {
  it('drops a shared entry it cannot decrypt (it may hold the rejected token), and tells the others', async () => {
    const prefix = fixture.newPrefix();
    const otherKey = { kid: 'other', key: randomBytes(32).toString('base64') };
    await fixture
      .newStore(prefix, { encryptionKeys: [otherKey] })
      .obtain('svc', async () => mintToken(), always);
    const [store, peer] = [fixture.newStore(prefix), fixture.newStore(prefix)];
    const heard = deferred<string>();
    peer.onInvalidate((key) => heard.resolve(key));
    await peer.obtain('other', async () => mintToken(), always); // connected, hence subscribed soon
    await fixture.subscribers(prefix, 3);
    await store.invalidate('svc', 'a-rejected-token');
    expect(await fixture.admin.exists(`${prefix}token:svc`)).toBe(0);
    expect(await heard.promise).toBe('svc');
  });

  it('tells nobody when the entry was replaced between its read and its delete', async () => {
    const prefix = fixture.newPrefix();
    const [store, peer] = [fixture.newStore(prefix), fixture.newStore(prefix)];
    const rejected = await store.obtain('svc', async () => mintToken(), always);
    const heard: string[] = [];
    peer.onInvalidate((key) => heard.push(key));
    await peer.obtain('svc', async () => mintToken(), always);
    await fixture.subscribers(prefix, 2);
    // A peer stores a replacement while this replica decrypts the entry it read.
    const replacement = mintToken();
    const decrypt = TokenEncryption.prototype.decrypt;
    jest.spyOn(TokenEncryption.prototype, 'decrypt').mockImplementationOnce(async function (
      this: TokenEncryption,
      ...args
    ) {
      await fixture.writeEntry(prefix, 'svc', replacement);
      return decrypt.apply(this, args);
    });
    await store.invalidate('svc', rejected.token);
    await store.invalidate('other'); // messages arrive in order: this one comes last
    await until(() => heard.length >= 1);
    expect(heard).toEqual(['other']);
    let calls = 0;
    const served = await fixture.newStore(prefix).obtain('svc', async () => (calls++, mintToken()), always);
    expect({ token: served.token, calls }).toEqual({ token: replacement.token, calls: 0 });
  });
});

describe('RedisTokenStore: the channel', () => {
  it('a malformed message on the channel neither throws nor stops the store hearing the next one', async () => {
    const prefix = fixture.newPrefix();
    const [store, peer] = [fixture.newStore(prefix), fixture.newStore(prefix)];
    const heard: string[] = [];
    store.onInvalidate((key) => heard.push(key));
    await store.obtain('svc', async () => mintToken(), always);
    await fixture.subscribers(prefix, 2);
    // Thrown from ioredis' socket handler, an exception here would be uncaught: the process would exit.
    for (const malformed of ['null', 'not json', '{"t":"invalidate"}']) {
      await fixture.admin.publish(`${prefix}events`, malformed);
    }
    await peer.invalidate('svc');
    await until(() => heard.length > 0);
    expect(heard).toEqual(['svc']);
  });
});

describe('RedisTokenStore: state and close', () => {
  it('tells its channel, health and whether it is closed, and stays closed', async () => {
    const prefix = fixture.newPrefix();
    const store = fixture.newStore(prefix);
    await store.obtain('svc', async () => mintToken(), always);
    expect(store.toJSON()).toEqual({ channel: `${prefix}events`, degraded: false, closed: false });
    await store.close();
    expect(store.toJSON()).toEqual({ channel: `${prefix}events`, degraded: false, closed: true });
    await store.close();
    expect(store.toJSON()).toMatchObject({ closed: true });
  });

  it('lets a caller waiting on a peer go at close, to fetch its own token', async () => {
    const prefix = fixture.newPrefix();
    await fixture.admin.set(`${prefix}lease:svc`, 'another-replica', 'PX', 60_000);
    const waiting = deferred<void>();
    const waitFor = StoreSignals.prototype.waitFor;
    jest.spyOn(StoreSignals.prototype, 'waitFor').mockImplementation(function (this: StoreSignals, ...args) {
      waiting.resolve();
      return waitFor.apply(this, args);
    });
    const store = fixture.newStore(prefix, { waitForPeerMs: 60_000 });
    const fresh = mintToken();
    const got = store.obtain('svc', async () => fresh, always);
    await waiting.promise;
    await store.close();
    expect(await got).toBe(fresh);
  });

  it('refuses options without an encryption key, naming the store and the field', () => {
    expect(() => new RedisTokenStore({ url: REDIS_URL } as RedisStoreOptions)).toThrow(
      /^token store "redis": "encryptionKeys"/,
    );
  });
});
