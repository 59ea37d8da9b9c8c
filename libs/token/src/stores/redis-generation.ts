import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis-client.factory.js';

/**
 * A cache key's generation: a random id kept in Redis next to the entry and sealed inside its JWE.
 * Each write sets a new one together with the entry, in one step; `invalidate()` deletes it with the
 * entry. An entry whose sealed id is not the current one was replaced or invalidated since it was
 * written, so its bytes written back by someone with write access to Redis (no encryption key
 * needed) are refused, by a fresh replica too. The id outlives the entry it seals; a missing one
 * admits no entry. Random, not a counter: nothing an expired or deleted id can restart from.
 */

/** Beyond an entry's own expiry: replicas' clocks may lag Redis's by that much. */
const OUTLIVE_MARGIN_MS = 10 * 60 * 1000;

/** SET the entry and its generation together; the generation never expires before the entry. */
const WRITE_SCRIPT = `redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[4])
local left = redis.call('pttl', KEYS[2])
if left > ttl then ttl = left end
redis.call('set', KEYS[2], ARGV[3], 'PX', ttl)
return 1`;

/** DEL the entry and its generation (only while the entry holds ARGV[1], when that is not empty). */
const DROP_SCRIPT = `if ARGV[1] ~= '' and redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1], KEYS[2])
return 1`;

/** A fresh generation id for the entry about to be written. */
export function newGeneration(): string {
  return randomBytes(16).toString('base64url');
}

/** Writes the entry `value` sealed for `generation`, and makes that generation the current one. */
export async function writeWithGeneration(
  client: RedisClient,
  tokenKey: string,
  generationKey: string,
  value: string,
  ttlMs: number,
  generation: string,
): Promise<void> {
  await client.eval(
    WRITE_SCRIPT,
    2,
    tokenKey,
    generationKey,
    value,
    ttlMs,
    generation,
    ttlMs + OUTLIVE_MARGIN_MS,
  );
}

/** Drops the entry and its generation (only while the entry still holds `onlyIfValue`, when given); true when it did. */
export async function dropWithGeneration(
  client: RedisClient,
  tokenKey: string,
  generationKey: string,
  onlyIfValue = '',
): Promise<boolean> {
  return (await client.eval(DROP_SCRIPT, 2, tokenKey, generationKey, onlyIfValue)) === 1;
}
