/**
 * Nothing secret by inspection in the shared store: `util.inspect(x, { depth: Infinity })` of the
 * Redis store, of its encryption, of a `TokenService` using it and of the module's providers shows
 * neither the Redis password nor the AES key (base64, hex or as byte values).
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { ModulesContainer } from '@nestjs/core';
import { inspect } from 'node:util';
import { TEST_SECRETS } from '../testing-support/test-secrets.js';
import { TokenModule } from '../module/token.module.js';
import { TokenService } from '../module/token.service.js';
import { RedisTokenStore } from './redis-token.store.js';
import { TokenEncryption } from './token-encryption.js';

const REDIS_PASSWORD = 'Rp-redis-PASSWORD-canary-4c2d';
const KEY_TEXT = 'Ky-SECRET-aes-key-canary-32bytes'; // 32 ASCII bytes
const KEY_BYTES = [...Buffer.from(KEY_TEXT, 'utf8')];
const KEY_BASE64 = Buffer.from(KEY_TEXT, 'utf8').toString('base64');
const redisOptions = () => ({
  host: '127.0.0.1',
  port: 6379,
  password: REDIS_PASSWORD,
  keyPrefix: `ntm-inspect-${process.pid}:`,
  encryptionKeys: [{ kid: 'k1', key: KEY_BASE64 }],
  commandTimeoutMs: 200,
});

/** The key in every form inspect could print it: text, base64, hex, and byte values in a row. */
function leaks(text: string): string[] {
  const found: string[] = [];
  if (text.includes(REDIS_PASSWORD)) found.push('the Redis password');
  if (text.includes(KEY_TEXT) || text.includes(KEY_BASE64)) found.push('the key');
  const hex = Buffer.from(KEY_BYTES.slice(0, 8)).toString('hex');
  if (text.replace(/[\s,]/g, '').includes(hex)) found.push('the key in hex');
  const numbers = (text.match(/\d+/g) ?? []).join(',');
  if (numbers.includes(KEY_BYTES.slice(0, 8).join(','))) found.push('the key bytes');
  return found;
}

function expectHidden(value: unknown): void {
  for (const showHidden of [false, true]) {
    expect(leaks(inspect(value, { depth: Infinity, showHidden }))).toEqual([]);
  }
}

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

describe('the Redis store and the encryption keep their secrets from inspect', () => {
  it('the test secrets are registered with the secret scan', () => {
    expect(TEST_SECRETS).toEqual(expect.arrayContaining([REDIS_PASSWORD, KEY_BASE64]));
  });

  it('TokenEncryption', () => {
    expectHidden(new TokenEncryption([{ kid: 'k1', key: KEY_BASE64 }]));
  });

  it('RedisTokenStore, and a TokenService using it', () => {
    const store = new RedisTokenStore(redisOptions());
    closers.push(() => store.close());
    expectHidden(store);
    const service = new TokenService({ store });
    expectHidden(service);
  });

  it('every provider of a module with store: "redis"', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TokenModule.forRoot({ store: 'redis', redis: redisOptions(), refresh: { enabled: false } })],
    }).compile();
    closers.push(() => moduleRef.close());
    expectHidden(moduleRef.get(TokenService));
    const container = moduleRef.get(ModulesContainer);
    const tokenModule = [...container.values()].find((module) => module.metatype === TokenModule)!;
    expectHidden([...tokenModule.providers.values()].map((wrapper) => wrapper.instance));
    // inspect walks the whole Nest container: 19 s on a quiet machine, 49 s seen on a loaded one.
  }, 240_000);
});
