import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisStoreOptions } from '../config/redis-store.options.js';

/** One server, a master behind Sentinel, or a Cluster: the store speaks to all of them alike. */
export type RedisClient = Redis | Cluster;

type NodeOption = NonNullable<RedisStoreOptions['cluster']>['nodes'][number];

/**
 * A connection to the topology the options describe, with the store's fail-fast `options`.
 * `base`, an application's own connection, is duplicated instead (same servers and credentials).
 */
export function createRedisClient(
  config: RedisStoreOptions,
  options: RedisOptions,
  base?: RedisClient,
): RedisClient {
  if (base instanceof Cluster) {
    // ioredis 5's `duplicate` replaces `redisOptions` as a whole (6 merges them): keep the base's
    // (credentials, TLS) underneath on either.
    return base.duplicate(undefined, clusterOptions(options, base.options.redisOptions ?? {}));
  }
  if (base !== undefined) return base.duplicate(options);
  const credentials: RedisOptions = {
    ...(config.username !== undefined && { username: config.username }),
    ...(config.password !== undefined && { password: config.password }),
    ...(config.tls === true && { tls: {} }),
  };
  if (config.cluster !== undefined) {
    return new Cluster(config.cluster.nodes.map(toNode), clusterOptions(options, credentials));
  }
  if (config.sentinel !== undefined) {
    const { sentinels, name, sentinelUsername, sentinelPassword } = config.sentinel;
    return new Redis({
      ...options,
      ...credentials,
      ...(config.db !== undefined && { db: config.db }),
      sentinels: sentinels.map(toNode),
      name,
      ...(sentinelUsername !== undefined && { sentinelUsername }),
      ...(sentinelPassword !== undefined && { sentinelPassword }),
      ...(config.tls === true && { enableTLSForSentinelMode: true }),
      // Not `failoverDetector`: with it, ioredis 6 ended the connections for good after a failover
      // (seen in the sentinel e2e test); the reconnection asks the sentinels for the new master anyway.
      // Sentinels unreachable: ask again on the store's schedule (bounded pauses, never giving up).
      sentinelRetryStrategy: (attempt: number) => options.retryStrategy?.(attempt) ?? 1_000,
    });
  }
  const explicit: RedisOptions = {
    ...credentials,
    ...(config.host !== undefined && { host: config.host }),
    ...(config.port !== undefined && { port: config.port }),
    ...(config.db !== undefined && { db: config.db }),
  };
  return config.url === undefined
    ? new Redis({ ...options, ...explicit })
    : new Redis(config.url, { ...options, ...explicit });
}

/** The store's options, spread over a cluster: per node (over `inherited`), and on the cluster itself. */
function clusterOptions(options: RedisOptions, inherited: RedisOptions): ClusterOptions {
  // A lost node is not reconnected to: the cluster learns the new slot map and moves on.
  const { lazyConnect: _lazy, retryStrategy, ...perNode } = options;
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    // Redirections and failovers are retried inside the caller's budget, never beyond it.
    retryDelayOnFailover: 20,
    retryDelayOnClusterDown: 20,
    retryDelayOnTryAgain: 20,
    clusterRetryStrategy: retryStrategy,
    // A failover moves slots: learn the new map soon, not after the default 5 s.
    slotsRefreshInterval: 1_000,
    slotsRefreshTimeout: Math.max(500, options.commandTimeout ?? 0),
    redisOptions: { ...inherited, ...perNode },
  };
}

function toNode(node: NodeOption): { host: string; port: number } {
  if (typeof node !== 'string') return node;
  const separator = node.lastIndexOf(':');
  return { host: node.slice(0, separator), port: Number(node.slice(separator + 1)) };
}
