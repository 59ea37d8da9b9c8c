import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { TestingModule } from '@nestjs/testing';
import { Test } from '@nestjs/testing';
import { ConfigModule, registerAs } from '@nestjs/config';
import { Redis } from 'ioredis';
import {
  InvalidTokenOptionsError,
  TokenInfo,
  TokenModule,
  TokenService,
  tokenConfigFromEnv,
  type TokenModuleOptions,
  type TokenStrategy,
} from '@app/token';
import { LogCapture } from './support/log-capture.js';

/** Replicas as Nest testing modules in this process, sharing the Redis on 127.0.0.1:6379. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const SECRET = 'kling-secret-key-do-not-leak-7781';
const key = (kid: string) => ({ kid, key: randomBytes(32).toString('base64') });
const [oldKey, newKey, strangerKey] = [key('2026-10'), key('2026-11'), key('2026-10')];

/** Mints random tokens and counts how often it was asked. */
class MintingStrategy implements TokenStrategy {
  readonly cacheKey = 'fleet:minted';
  calls = 0;
  async generate() {
    this.calls++;
    return new TokenInfo({
      token: `minted-${randomUUID()}`,
      expiresAt: Date.now() + 600_000,
      extra: { refresh_token: `rt-${randomUUID()}` },
    });
  }
}

const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
let prefix: string;
const prefixes: string[] = [];
let apps: TestingModule[] = [];
let logs: LogCapture;

async function replica(
  redis: Partial<NonNullable<TokenModuleOptions['redis']>>,
  extra: TokenModuleOptions = {},
) {
  const strategy = new MintingStrategy();
  const app = await Test.createTestingModule({
    imports: [
      TokenModule.forRoot({
        store: 'redis',
        // A roomy budget: on a loaded machine a Redis reply can outlast the 100 ms default, and a
        // replica then (rightly) fetches its own token, which is not what these tests look at.
        redis: { url: REDIS_URL, keyPrefix: prefix, encryptionKeys: [oldKey], budgetMs: 5_000, ...redis },
        refresh: { enabled: false },
        providers: {
          kling: { type: 'jwt', accessKey: 'ak-fleet', secretKey: SECRET },
          minted: { type: 'custom', useFactory: () => strategy },
        },
        ...extra,
      }),
    ],
  }).compile();
  logs.install(); // compile() puts Nest's testing logger in place
  await app.init();
  apps.push(app);
  return { tokens: app.get(TokenService), strategy };
}

/** Every value stored under the prefix, whatever its type. */
async function everythingStored(): Promise<string> {
  const dump: string[] = [];
  for (const name of await admin.keys(`${prefix}*`)) {
    const type = await admin.type(name);
    dump.push(
      name,
      type === 'string' ? ((await admin.get(name)) ?? '') : JSON.stringify(await admin.dump(name)),
    );
  }
  return dump.join('\n');
}

beforeEach(() => {
  prefix = `ntm-enc:${randomUUID()}:`;
  prefixes.push(prefix);
  logs = new LogCapture().install();
});

afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
  logs.restore();
});

afterAll(async () => {
  // Only this file's prefixes: a second copy of the suite may be using the same Redis.
  for (const used of prefixes) {
    const keys = await admin.keys(`${used}*`);
    if (keys.length > 0) await admin.del(...keys);
  }
  await admin.quit();
});

describe('fleet mode: what Redis holds', () => {
  it('stores no token, refresh token or secret in plaintext, only JWEs under the provider cache key', async () => {
    const { tokens } = await replica({});
    const jwt = await tokens.getToken('kling');
    const minted = await tokens.getToken('minted');

    const stored = await everythingStored();
    expect(stored).toContain(`${prefix}token:fleet:minted`);
    for (const secret of [
      SECRET,
      jwt.token,
      ...jwt.token.split('.'),
      minted.token,
      String(minted.extra.refresh_token),
    ]) {
      expect(stored).not.toContain(secret);
    }
    const value = (await admin.get(`${prefix}token:fleet:minted`))!;
    expect(JSON.parse(Buffer.from(value.split('.')[0], 'base64url').toString())).toEqual({
      alg: 'dir',
      enc: 'A256GCM',
      kid: oldKey.kid,
    });
    expect(logs.lines.join('\n')).not.toContain(minted.token);
  });

  it('shares a token between replicas and broadcasts invalidation to all of them', async () => {
    const a = await replica({});
    const b = await replica({});
    const first = await a.tokens.getToken('minted');
    expect((await b.tokens.getToken('minted')).token).toBe(first.token);
    expect(a.strategy.calls + b.strategy.calls).toBe(1);

    await a.tokens.invalidate('minted');
    await waitFor(() => b.tokens.getTokenInfo('minted') === undefined);
    expect(await admin.exists(`${prefix}token:fleet:minted`)).toBe(0);
    expect((await b.tokens.getToken('minted')).token).not.toBe(first.token);
  });

  it('reads entries written with the old key after a rotation, and writes new ones with the new key', async () => {
    const before = await replica({ encryptionKeys: [oldKey] });
    const written = await before.tokens.getToken('minted');
    const after = await replica({ encryptionKeys: [newKey, oldKey] });
    expect((await after.tokens.getToken('minted')).token).toBe(written.token);
    expect(after.strategy.calls).toBe(0);

    await after.tokens.invalidate('minted');
    await after.tokens.getToken('minted');
    const header = JSON.parse(
      Buffer.from((await admin.get(`${prefix}token:fleet:minted`))!.split('.')[0], 'base64url').toString(),
    );
    expect(header.kid).toBe(newKey.kid);
  });

  it('treats an entry it cannot decrypt (wrong key) as a miss and replaces it; no crash, no value logged', async () => {
    const owner = await replica({ encryptionKeys: [oldKey] });
    const original = await owner.tokens.getToken('minted');
    const stranger = await replica({ encryptionKeys: [strangerKey] }); // same kid, other bytes
    const replaced = await stranger.tokens.getToken('minted');
    expect(replaced.token).not.toBe(original.token);
    expect(stranger.strategy.calls).toBe(1);

    const warnings = logs.lines.filter((line) => line.includes('cannot be decrypted'));
    expect(warnings).toHaveLength(1);
    expect(logs.lines.join('\n')).not.toContain(original.token);
    expect(logs.lines.join('\n')).not.toContain(strangerKey.key);
    expect(await admin.get(`${prefix}token:fleet:minted`)).not.toContain(replaced.token);
  });

  it('refuses to start the redis store without an encryption key, naming the field but no value', async () => {
    const password = 'redis-password-never-printed';
    const start = Test.createTestingModule({
      imports: [
        TokenModule.forRoot({
          store: 'redis',
          redis: { url: `redis://:${password}@127.0.0.1:6379` } as NonNullable<TokenModuleOptions['redis']>,
          providers: {},
        }),
      ],
    }).compile();
    const error = await start.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect((error as InvalidTokenOptionsError).message).toContain('"redis.encryptionKeys"');
    expect((error as InvalidTokenOptionsError).message).not.toContain(password);

    const noSection = await Test.createTestingModule({
      imports: [TokenModule.forRoot({ store: 'redis', providers: {} })],
    })
      .compile()
      .catch((e: unknown) => e);
    expect((noSection as InvalidTokenOptionsError).field).toBe('redis.encryptionKeys');
  });

  it('is configured from environment variables like any other option', async () => {
    const env = {
      TOKEN__STORE: 'redis',
      TOKEN__REDIS__URL: REDIS_URL,
      TOKEN__REDIS__KEY_PREFIX: prefix,
      TOKEN__REDIS__ENCRYPTION_KEYS: JSON.stringify([newKey, oldKey]),
      TOKEN__REDIS__LEASE_MS: '5000',
      TOKEN__REDIS__BUDGET_MS: '5000', // roomy, as in replica() above
      TOKEN__REFRESH__ENABLED: 'false',
      TOKEN__PROVIDERS__KLING__TYPE: 'jwt',
      TOKEN__PROVIDERS__KLING__ACCESS_KEY: 'ak-env',
      TOKEN__PROVIDERS__KLING__SECRET_KEY: SECRET,
    };
    const app = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [registerAs('token', () => tokenConfigFromEnv(env))],
        }),
        TokenModule.forRoot(),
      ],
    }).compile();
    apps.push(app);
    const info = await app.get(TokenService).getToken('kling');
    const stored = await everythingStored();
    expect(stored).toContain(`${prefix}token:jwt:ak-env`);
    expect(stored).not.toContain(info.token);
  });

  it('uses an application-provided ioredis client and leaves it open on shutdown', async () => {
    const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      const { tokens } = await replica({ url: undefined }, { redisClient: client });
      await tokens.getToken('minted');
      expect(await admin.exists(`${prefix}token:fleet:minted`)).toBe(1);
      await Promise.all(apps.splice(0).map((app) => app.close()));
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });
});

/** Polls `condition` up to a deadline far above what it needs (a loaded machine included). */
async function waitFor(condition: () => boolean, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
