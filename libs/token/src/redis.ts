// `nest-token-manager/redis`: the Redis store for fleet mode. A subpath of its own, so that apps
// without `ioredis` installed can import the main entry.
export * from './stores/redis-token.store.js';
export { TokenEncryption, UndecryptableTokenError } from './stores/token-encryption.js';
