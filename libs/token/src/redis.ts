// `nest-token-manager/redis`: the Redis store for fleet mode. A subpath of its own, so that apps
// without `ioredis` installed can import the main entry.
export { RedisTokenStore } from './stores/redis-token.store.js';
export type { TokenEncryptionKey } from './config/redis-store.options.js';
export { TokenEncryption, UndecryptableTokenError } from './stores/token-encryption.js';
