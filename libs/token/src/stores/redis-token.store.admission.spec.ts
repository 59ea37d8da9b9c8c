import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { LogCapture } from '../testing-support/log-capture.js';
import { TokenInfo, type TokenInfoInit } from '../core/token-info.js';
import type { TokenStrategy } from '../core/token-strategy.interface.js';
import { TokenService } from '../module/token.service.js';
import { RedisTokenStore } from './redis-token.store.js';
import { TokenEncryption } from './token-encryption.js';

/**
 * What an attacker with write access to Redis can do to a fleet, against the Redis on 127.0.0.1:6379
 * (each test under its own key prefix): entries forged with the encryption key still pass the token
 * gate, and an entry's bytes written back after an invalidation or a newer token are refused.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const encryptionKey = { kid: 'k1', key: randomBytes(32).toString('base64') };
const CACHE_KEY = 'svc';

const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
const services: TokenService[] = [];
let logs: LogCapture | undefined;

/** Mints distinct Bearer tokens and counts the token requests. */
class MintingStrategy implements TokenStrategy {
  readonly cacheKey = CACHE_KEY;
  calls = 0;
  async generate() {
    this.calls++;
    return new TokenInfo({ token: `minted-${randomUUID()}`, expiresAt: Date.now() + 600_000 });
  }
}

/** One replica: a service with its own store connections, as a fresh process would have. */
function replica(prefix: string) {
  // A generous budget: on a loaded machine a slow connect must not pass for a refused entry.
  const store = new RedisTokenStore({
    url: REDIS_URL,
    keyPrefix: prefix,
    encryptionKeys: [encryptionKey],
    budgetMs: 5_000,
  });
  const service = new TokenService({ store });
  const strategy = new MintingStrategy();
  service.register('svc', strategy);
  services.push(service);
  return { service, strategy };
}

const newPrefix = () => `ntm-test-admission:${randomUUID()}:`;

afterEach(async () => {
  logs?.restore();
  logs = undefined;
  await Promise.all(services.splice(0).map((service) => service.onApplicationShutdown()));
});

afterAll(async () => {
  const keys = await admin.keys('ntm-test-admission:*');
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

describe('Redis boundary: an entry forged with the encryption key passes the token gate', () => {
  const valid = (): TokenInfoInit => ({
    token: 'forged-token',
    tokenType: 'Bearer',
    issuedAt: Date.now(),
    expiresAt: Date.now() + 300_000,
  });

  it.each<[string, Partial<TokenInfoInit>]>([
    ['a token type the provider does not accept ("Basic")', { tokenType: 'Basic' }],
    ['CR/LF inside the token type', { tokenType: 'Bearer\r\nX-Evil: 1' }],
    ['CR/LF inside the token', { token: 'forged\r\nX-Evil: 1' }],
    ['an expiry that never comes (1e20)', { expiresAt: 1e20 }],
  ])('row 3: ignores and logs an entry with %s, and asks for a new token', async (_case, forged) => {
    const prefix = newPrefix();
    // Written as the library would (current generation sealed in), so only the gate can refuse it.
    await admin.set(`${prefix}gen:${CACHE_KEY}`, 'g7');
    const jwe = await new TokenEncryption([encryptionKey]).encrypt(
      CACHE_KEY,
      { ...valid(), ...forged },
      'g7',
    );
    await admin.set(`${prefix}token:${CACHE_KEY}`, jwe, 'PX', 300_000);

    logs = new LogCapture().install();
    const { service, strategy } = replica(prefix);
    const header = await service.getAuthorizationHeader('svc');

    expect(strategy.calls).toBe(1);
    expect(header.Authorization).toMatch(/^Bearer minted-[0-9a-f-]+$/);
    const logged = logs.lines.join('\n');
    expect(logged).toMatch(/token provider "svc": shared entry has .*; ignored, asking for a new token/);
    expect(logged).not.toContain('forged');
    expect(logged).not.toContain('X-Evil');
  });
});

describe('Redis boundary: no replay of an old entry', () => {
  it('row 4: an entry copied before invalidate() and written back after it is refused by a fresh replica', async () => {
    const prefix = newPrefix();
    const tokenKey = `${prefix}token:${CACHE_KEY}`;
    const first = replica(prefix);
    const old = await first.service.getToken('svc');
    const copied = (await admin.get(tokenKey))!;
    expect(copied).not.toBeNull();

    await first.service.invalidate('svc');
    expect(await admin.exists(tokenKey)).toBe(0);
    await admin.set(tokenKey, copied, 'PX', 300_000); // no key needed: the bytes as they were

    logs = new LogCapture().install();
    const fresh = replica(prefix);
    const served = await fresh.service.getToken('svc');
    expect(served.token).not.toBe(old.token);
    expect(fresh.strategy.calls).toBe(1);
    expect(logs.lines.join('\n')).toContain('entry was replaced or invalidated since it was written');
  });

  it('row 4: an entry a newer token replaced, written back, is refused by a fresh replica', async () => {
    const prefix = newPrefix();
    const tokenKey = `${prefix}token:${CACHE_KEY}`;
    const first = replica(prefix);
    const old = await first.service.getToken('svc');
    const copied = (await admin.get(tokenKey))!;
    const newer = await first.service.refreshToken('svc');
    expect(newer.token).not.toBe(old.token);

    await admin.set(tokenKey, copied, 'PX', 300_000);
    logs = new LogCapture().install();
    const fresh = replica(prefix);
    const served = await fresh.service.getToken('svc');
    expect(served.token).not.toBe(old.token);
    expect(fresh.strategy.calls).toBe(1);
    expect(logs.lines.join('\n')).toContain('entry was replaced or invalidated since it was written');
  });

  it('an entry written since the last invalidation is still shared: a fresh replica makes no token request', async () => {
    const prefix = newPrefix();
    const first = replica(prefix);
    await first.service.getToken('svc');
    await first.service.invalidate('svc');
    const current = await first.service.getToken('svc');
    const fresh = replica(prefix);
    expect((await fresh.service.getToken('svc')).token).toBe(current.token);
    expect(fresh.strategy.calls).toBe(0);
    // The generation outlives the entry it sealed.
    expect(await admin.pttl(`${prefix}gen:${CACHE_KEY}`)).toBeGreaterThan(
      await admin.pttl(`${prefix}token:${CACHE_KEY}`),
    );
  });
});
