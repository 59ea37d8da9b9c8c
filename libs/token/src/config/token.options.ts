import { z } from 'zod';
import type { Clock } from '../core/clock.js';
import { customProviderSchema } from './custom.options.js';
import { jwtProviderSchema } from './jwt.options.js';
import { oauth2ProviderSchema } from './oauth2.options.js';
import { redisStoreOptionsSchema } from './redis-store.options.js';
import type { TokenStore } from '../core/token-store.interface.js';

/**
 * One provider's configuration; `type` picks the strategy.
 *
 * @publicApi
 */
export const providerConfigSchema = z.discriminatedUnion('type', [
  jwtProviderSchema,
  oauth2ProviderSchema,
  customProviderSchema,
]);

/** One provider's configuration: a `jwt`, `oauth2` or `custom` provider, picked by `type`. @publicApi */
export type TokenProviderConfig = z.input<typeof providerConfigSchema>;

/**
 * What can sit in the `token` namespace of `ConfigService` (env vars, YAML, JSON): everything but
 * class references and instances.
 *
 * @publicApi
 */
export const tokenConfigSchema = z.strictObject({
  /** Providers by name. */
  providers: z.record(z.string().min(1), providerConfigSchema).optional(),
  /** Default margin of every provider. Default 300 000 ms. */
  safetyMarginMs: z.number().int().nonnegative().optional(),
  /** Longest a strategy's `generate()` may take before the refresh fails. Default 30 000 ms. */
  refreshTimeoutMs: z.number().int().positive().optional(),
  /** Per-call variants (scope, tenant…) kept per provider, least recently used dropped first. Default 100. */
  maxVariantsPerProvider: z.number().int().positive().optional(),
  /** Longest `app.close()` waits for refreshes in flight before abandoning them. Default 5 000 ms. */
  shutdownTimeoutMs: z.number().int().nonnegative().optional(),
  /** The preemptive refresh sweep. */
  refresh: z
    .strictObject({
      /** Default true. */
      enabled: z.boolean().optional(),
      /** Cron expression (with seconds). Default every 30 s. */
      cron: z.string().min(1).optional(),
    })
    .optional(),
  /**
   * What start-up does when a `@UseToken('name')` names no registered provider: `'fail'` (default),
   * or `'warn'` for applications that `register()` providers after start-up.
   */
  unregisteredProviders: z.enum(['fail', 'warn']).optional(),
  /** `memory` (default) keeps tokens in the process; `redis` shares them across replicas. */
  store: z.enum(['memory', 'redis']).optional(),
  /** Connection, encryption keys and lock timings for `store: 'redis'`; see `redisStoreOptionsSchema`. */
  redis: redisStoreOptionsSchema.optional(),
  /**
   * Every configured provider must have `baseUrls`: one without is a start-up error instead of a
   * provider whose token the HTTP integration sends to any origin. Default false.
   */
  requireBaseUrls: z.boolean().optional(),
});

/** What the `token` namespace of `ConfigService` may hold: the module options but class references and instances. @publicApi */
export type TokenConfig = z.input<typeof tokenConfigSchema>;

/**
 * Options of `TokenModule.forRoot` / `forRootAsync`. Without `providers`, the providers (and any
 * option not given here) are read from `ConfigService.get('token')`.
 *
 * @publicApi
 */
export interface TokenModuleOptions extends Omit<TokenConfig, 'store'> {
  /** `'memory'` (default), `'redis'`, or a {@link TokenStore} of your own. */
  store?: TokenConfig['store'] | TokenStore;
  /**
   * An ioredis connection of the application's for `store: 'redis'`, instead of `redis.url`/`host`.
   * The store opens its own connections from it (`duplicate()`, with its own timeouts) and never
   * uses, changes or closes the application's client.
   */
  redisClient?: RedisClientLike;
  /** Time source of the cache's refresh decisions; for tests. Default the system clock. */
  clock?: Clock;
}

/**
 * An application's ioredis client, as `redisClient` takes it: an ioredis `Redis` or `Cluster` instance fits.
 * Typed by the one method the store uses, so that the main entry's types compile without `ioredis`
 * installed (it is an optional peer dependency).
 *
 * @publicApi
 */
export interface RedisClientLike {
  duplicate(override?: object): unknown;
}

/** A provider entry as its schema parsed it. */
export type ParsedProviderConfig = z.output<typeof providerConfigSchema>;
