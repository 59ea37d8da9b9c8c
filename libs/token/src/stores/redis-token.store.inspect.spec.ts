import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../testing-support/free-port.js';
import type { RedisStoreOptions } from '../config/redis-store.options.js';
import { RedisTokenStore } from './redis-token.store.js';

const REDIS_PASSWORD = 'Rp-inspect-REDIS-password-6a1e';
const SENTINEL_PASSWORD = 'Sp-inspect-SENTINEL-password-2c9d';
const keyBytes = randomBytes(32);
const encryptionKeys = [
  { kid: 'current', key: keyBytes.toString('base64') },
  { kid: 'next', key: randomBytes(32).toString('base64url'), decryptOnly: true },
];
const stores: RedisTokenStore[] = [];

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  // ioredis' sentinel connector, with no sentinel to reach, notices the close only after its next
  // (unref'd-less) pause between rounds; let it run out so Jest exits cleanly.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
});

/** Every form the key could show in: base64, base64url, hex, and the bytes as inspect prints them. */
function keyForms(): string[] {
  return encryptionKeys.flatMap(({ key }) => {
    const bytes = Buffer.from(key.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return [
      key,
      bytes.toString('base64'),
      bytes.toString('hex'),
      inspect(new Uint8Array(bytes)).slice(0, 60),
    ];
  });
}

describe('RedisTokenStore under util.inspect and JSON.stringify', () => {
  // Nothing listens on these ports: the connections keep retrying, which is all the test needs.
  const topologies: [string, (port: number) => RedisStoreOptions][] = [
    ['url', (port) => ({ url: `redis://app:${REDIS_PASSWORD}@127.0.0.1:${port}`, encryptionKeys })],
    ['password option', (port) => ({ host: '127.0.0.1', port, password: REDIS_PASSWORD, encryptionKeys })],
    [
      'cluster',
      (port) => ({ cluster: { nodes: [`127.0.0.1:${port}`] }, password: REDIS_PASSWORD, encryptionKeys }),
    ],
    [
      'sentinel',
      (port) => ({
        sentinel: {
          sentinels: [{ host: '127.0.0.1', port }],
          name: 'main',
          sentinelPassword: SENTINEL_PASSWORD,
        },
        password: REDIS_PASSWORD,
        encryptionKeys,
        reconnectMaxDelayMs: 50,
      }),
    ],
  ];

  it.each(topologies)(
    'shows no Redis password, connection option or key bytes (%s)',
    async (_name, options) => {
      const store = new RedisTokenStore(options(await freePort()));
      stores.push(store);
      const printed = [
        inspect(store, { depth: Infinity, showHidden: true, getters: true }),
        JSON.stringify(store),
        inspect(Object.values(store), { depth: Infinity, showHidden: true }),
      ].join('\n');
      for (const secret of [REDIS_PASSWORD, SENTINEL_PASSWORD, ...keyForms()]) {
        expect(printed).not.toContain(secret);
      }
      expect(printed).not.toMatch(/password|redisOptions|sentinels/i);
      expect(printed).toContain('RedisTokenStore');
    },
  );
});
