import type { ResolvedTokenConfig } from '../config/token-config.loader.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import type { RedisClientLike, TokenModuleOptions } from '../config/token.options.js';
import { MemoryTokenStore } from './memory-token.store.js';
import { IOREDIS, importOptional } from './optional-dependency.js';
import type { RedisClient } from './redis-client.factory.js';
import type { TokenStore } from '../core/token-store.interface.js';

/**
 * The store the options ask for: an instance as given, `memory` by default, `redis` built from the
 * `redis` section (on `redisClient`, a connection or a Cluster, when one is given). The Redis store is loaded only when asked
 * for, so `ioredis` stays an optional dependency.
 */
export async function createTokenStore(
  choice: TokenModuleOptions['store'],
  config: ResolvedTokenConfig,
  redisClient?: RedisClientLike,
): Promise<TokenStore> {
  if (choice !== undefined && typeof choice === 'object') return choice;
  const kind = choice ?? config.store ?? 'memory';
  if (kind === 'memory') return new MemoryTokenStore();
  if (kind === 'redis') {
    if (config.redis === undefined) {
      throw new InvalidTokenOptionsError(
        'token store "redis": "redis.encryptionKeys" must list at least one key (tokens are encrypted at rest)',
        undefined,
        'redis.encryptionKeys',
      );
    }
    // Without ioredis installed: a typed error naming the option and the install command.
    await importOptional(IOREDIS);
    const { RedisTokenStore } = await import('./redis-token.store.js');
    // The module options type the client structurally (see RedisClientLike); it is an ioredis client.
    return new RedisTokenStore(config.redis, redisClient as RedisClient | undefined);
  }
  throw new InvalidTokenOptionsError(`token store "${kind}" is not available`, undefined, 'store');
}
