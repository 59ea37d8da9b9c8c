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
   * How long one replica may hold the refresh lock. Longer than the token request timeout (10 s), so a
   * slow but live holder keeps it; a holder that dies frees it after this long.
   */
  leaseMs: 15_000,
  /** How long a replica waits for the lock holder's token before fetching one itself. Above `leaseMs`. */
  waitForPeerMs: 20_000,
  /** Longest wait on one Redis command; short, so a slow or dead Redis never holds a caller up. */
  commandTimeoutMs: 500,
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
    /** Prefix of every key and of the channel. Default `ntm:`. */
    keyPrefix: z.string().min(1).max(128).optional(),
    /**
     * Keys that encrypt tokens at rest (JWE `dir` + `A256GCM`). The first encrypts; all decrypt, so a
     * new key goes first and the old one stays listed until old entries have expired. Required.
     */
    encryptionKeys: z.array(encryptionKeySchema).min(1, 'must list at least one key'),
    /** Refresh lock lifetime. Default 15 000 ms. */
    leaseMs: z.number().int().min(100).optional(),
    /** Wait for another replica's refresh before refreshing here. Default 20 000 ms. */
    waitForPeerMs: z.number().int().nonnegative().optional(),
    /** Longest wait on one Redis command. Default 500 ms. */
    commandTimeoutMs: z.number().int().min(1).optional(),
    /** Longest pause between reconnection attempts. Default 2 000 ms. */
    reconnectMaxDelayMs: z.number().int().min(1).optional(),
  })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.encryptionKeys.forEach(({ kid }, index) => {
      if (seen.has(kid)) {
        ctx.addIssue({ code: 'custom', path: ['encryptionKeys', index, 'kid'], message: 'must be unique' });
      }
      seen.add(kid);
    });
  });

/** @publicApi */
export type RedisStoreOptions = z.input<typeof redisStoreOptionsSchema>;

/** One encryption key: its id and its 32 bytes, base64 or base64url. */
export type TokenEncryptionKey = RedisStoreOptions['encryptionKeys'][number];
