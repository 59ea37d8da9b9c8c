import type { RedisClient } from './redis-client.factory.js';

/**
 * A cache key's generation: a counter in Redis that every write and every invalidation bumps, and
 * that each entry carries sealed inside its JWE. An entry whose generation is not the current one
 * was replaced or invalidated since it was written: its bytes, written back by someone with write
 * access to Redis (no encryption key needed), are refused. It lives in Redis so a fresh replica
 * knows it too; it outlives every entry it sealed, so an expired counter cannot restart under a
 * live entry.
 */

/** Beyond an entry's own expiry: replicas' clocks may lag Redis's by that much. */
const OUTLIVE_MARGIN_MS = 10 * 60 * 1000;

/** INCR, then make the counter outlive the entry about to be written (never shorten it). */
const NEXT_SCRIPT = `local g = redis.call('incr', KEYS[1])
if redis.call('pttl', KEYS[1]) < tonumber(ARGV[1]) then redis.call('pexpire', KEYS[1], ARGV[1]) end
return g`;

/** SET the entry only while the generation it was sealed for is still the current one. */
const WRITE_SCRIPT = `if redis.call('get', KEYS[2]) ~= ARGV[3] then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * DEL the entry (only while it holds ARGV[1], when that is not empty) and bump the generation. A
 * missing counter stays missing: no live entry was sealed under it, and none is accepted without it.
 */
const DROP_SCRIPT = `if ARGV[1] ~= '' and redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[1])
if redis.call('exists', KEYS[2]) == 1 then redis.call('incr', KEYS[2]) end
return 1`;

/** The next generation for an entry living `ttlMs`. */
export async function nextGeneration(
  client: RedisClient,
  generationKey: string,
  ttlMs: number,
): Promise<number> {
  return Number(await client.eval(NEXT_SCRIPT, 1, generationKey, ttlMs + OUTLIVE_MARGIN_MS));
}

/** Writes `value` for `ttlMs` if `generation` is still current; false when a newer write or an invalidation came first. */
export async function writeForGeneration(
  client: RedisClient,
  tokenKey: string,
  generationKey: string,
  value: string,
  ttlMs: number,
  generation: number,
): Promise<boolean> {
  return (await client.eval(WRITE_SCRIPT, 2, tokenKey, generationKey, value, ttlMs, generation)) === 1;
}

/** Drops the entry (only while it still holds `onlyIfValue`, when given) and bumps the generation; true when it did. */
export async function dropAndBump(
  client: RedisClient,
  tokenKey: string,
  generationKey: string,
  onlyIfValue = '',
): Promise<boolean> {
  return (await client.eval(DROP_SCRIPT, 2, tokenKey, generationKey, onlyIfValue)) === 1;
}

/** The current generation in a reply (`null` when there is none: then no entry is accepted). */
export function generationOf(reply: string | null | undefined): number | undefined {
  if (typeof reply !== 'string' || !/^\d{1,15}$/.test(reply)) return undefined;
  return Number(reply);
}
