import { z } from 'zod';

/**
 * Defaults of the Redis store, with the unit in every name.
 *
 * @publicApi
 */
export const REDIS_STORE_DEFAULTS = {
  /** Every key and the channel start with this, so one Redis can serve several applications. */
  keyPrefix: 'ntm:',
  /**
   * Lifetime of the refresh lock. Short, because its holder renews it (every third of it) for as long
   * as its token request runs: a live holder keeps it however slow the issuer is, a holder that dies
   * frees it within this long.
   */
  leaseMs: 2_000,
  /**
   * How long a replica without a valid token waits for the lock holder's token before fetching one
   * itself (a replica that still holds a valid token never waits: it serves that one).
   */
  waitForPeerMs: 20_000,
  /**
   * The Redis budget: the longest a caller waits on Redis, all commands of the call together, before
   * working on its own (fetching its own token), whether Redis is down, stalled or slow.
   */
  budgetMs: 100,
  /** @deprecated Read `budgetMs`; kept for code that read this default. */
  commandTimeoutMs: 100,
  /** Longest pause between reconnection attempts while Redis is down. */
  reconnectMaxDelayMs: 2_000,
} as const;

const BASE64_OR_BASE64URL = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_BYTES = 32;

/** The raw bytes of a key written in base64 or base64url, or undefined when it is not 32 bytes. */
export function decodeEncryptionKey(encoded: string): Uint8Array | undefined {
  const trimmed = encoded.trim();
  if (!BASE64_OR_BASE64URL.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === KEY_BYTES ? new Uint8Array(bytes) : undefined;
}

/** One key of the encryption key set; the message never shows the key. */
const encryptionKeySchema = z.strictObject({
  /** Key id, written in each entry's header so the right key decrypts it after a rotation. */
  kid: z.string().min(1).max(64),
  /** 32 random bytes, base64 or base64url (`openssl rand -base64 32`). */
  key: z.string().refine((value) => decodeEncryptionKey(value) !== undefined, {
    message: 'must be 32 bytes, base64 or base64url encoded',
  }),
  /**
   * Decrypts entries but never encrypts one: the first step of a key rotation, deployed on every
   * replica before any of them makes the key its primary.
   */
  decryptOnly: z.boolean().optional(),
});

/** `host:port` or `{ host, port }`. */
const nodeSchema = z.union([
  z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be "host:port"'),
  z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65_535) }),
]);

/** A Redis Cluster: the nodes to discover it from (any few of its masters or replicas). */
const clusterSchema = z.strictObject({
  nodes: z.array(nodeSchema).min(1, 'must list at least one node'),
});

/** A master watched by Redis Sentinel: the sentinels to ask and the master's name. */
const sentinelSchema = z.strictObject({
  sentinels: z.array(nodeSchema).min(1, 'must list at least one sentinel'),
  /** The master's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: z.string().min(1),
  /** Credentials of the sentinels themselves, when they require them. */
  sentinelUsername: z.string().min(1).optional(),
  sentinelPassword: z.string().min(1).optional(),
});

/**
 * The `redis` section of the options, for `store: 'redis'`.
 *
 * @publicApi
 * @example
 * redis: {
 *   url: 'redis://redis:6379',
 *   encryptionKeys: [{ kid: '2026-11', key: process.env.TOKEN_KEY_2026_11 }],
 * }
 */
export const redisStoreOptionsSchema = z
  .strictObject({
    /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. Default `127.0.0.1:6379`. */
    url: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65_535).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    db: z.number().int().nonnegative().optional(),
    /** Connect with TLS. */
    tls: z.boolean().optional(),
    /**
     * A Redis Cluster instead of one server; `username`, `password` and `tls` apply to every node.
     * A provider's keys carry a hash tag, so they live in one slot.
     */
    cluster: clusterSchema.optional(),
    /** A master found through Redis Sentinel; `username`, `password`, `db` and `tls` apply to it. */
    sentinel: sentinelSchema.optional(),
    /** Prefix of every key and of the channel. Default `ntm:`. No `{` or `}` (hash tags are the store's). */
    keyPrefix: z
      .string()
      .min(1)
      .max(128)
      .refine((value) => !/[{}]/.test(value), { message: 'must not contain "{" or "}"' })
      .optional(),
    /**
     * Keys that encrypt tokens at rest (JWE `dir` + `A256GCM`). The first key not marked `decryptOnly`
     * encrypts; all decrypt. Rotate in three deployments: the new key as `decryptOnly` everywhere, then
     * first (the old one kept to decrypt), then, a token lifetime later, without the old one. Required.
     */
    encryptionKeys: z.array(encryptionKeySchema).min(1, 'must list at least one key'),
    /** Refresh lock lifetime, renewed while its holder is alive. Default 2 000 ms. */
    leaseMs: z.number().int().min(100).optional(),
    /** Wait for another replica's refresh before refreshing here. Default 20 000 ms. */
    waitForPeerMs: z.number().int().nonnegative().optional(),
    /** Longest a caller waits on Redis in total per call before working on its own. Default 100 ms. */
    budgetMs: z.number().int().min(1).optional(),
    /** @deprecated Use `budgetMs`; taken as the budget when `budgetMs` is not set. */
    commandTimeoutMs: z.number().int().min(1).optional(),
    /** Longest pause between reconnection attempts. Default 2 000 ms. */
    reconnectMaxDelayMs: z.number().int().min(1).optional(),
  })
  .superRefine((value, ctx) => {
    const topologies = (['url', 'host', 'cluster', 'sentinel'] as const).filter(
      (name) => value[name] !== undefined,
    );
    const exclusive = topologies.filter((name) => name === 'cluster' || name === 'sentinel');
    if (exclusive.length > 0 && topologies.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [exclusive[0]],
        message: `cannot be combined with ${topologies
          .filter((name) => name !== exclusive[0])
          .map((name) => `"${name}"`)
          .join(', ')}`,
      });
    }
    if (value.encryptionKeys.length > 0 && value.encryptionKeys.every((key) => key.decryptOnly === true)) {
      ctx.addIssue({
        code: 'custom',
        path: ['encryptionKeys'],
        message: 'needs one key that is not "decryptOnly" to encrypt with',
      });
    }
    const seen = new Set<string>();
    value.encryptionKeys.forEach(({ kid }, index) => {
      if (seen.has(kid)) {
        ctx.addIssue({ code: 'custom', path: ['encryptionKeys', index, 'kid'], message: 'must be unique' });
      }
      seen.add(kid);
    });
  });

/** Connection, encryption keys and lock timings of `store: 'redis'` (fleet mode). @publicApi */
export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;

/** One encryption key: its id and its 32 bytes, base64 or base64url. */
export type TokenEncryptionKey = RedisStoreOptions['encryptionKeys'][number];
