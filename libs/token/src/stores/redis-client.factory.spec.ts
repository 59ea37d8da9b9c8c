import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { freePort } from '../testing-support/free-port.js';
import type { RedisStoreOptions } from '../config/redis-store.options.js';
import { createRedisClient, type RedisClient } from './redis-client.factory.js';

/**
 * What `createRedisClient` hands to ioredis, read back from the client it builds (`client.options`)
 * without connecting: every client here is lazy and is disconnected after its test. The hosts are
 * loopback ports nothing listens on, so a client that connected anyway would be refused at once.
 */
const PASSWORD = 'redis-password-never-printed';
const SENTINEL_PASSWORD = 'Sp-inspect-SENTINEL-password-2c9d';
const encryptionKeys = [{ kid: 'k', key: randomBytes(32).toString('base64') }];

/** The store's fail-fast options, as RedisConnection passes them (the values only need to be distinct). */
const retryStrategy = (attempt: number) => attempt * 7;
const storeOptions: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1_234,
  connectTimeout: 1_500,
  retryStrategy,
};

let portA: number;
let portB: number;
const clients: RedisClient[] = [];

beforeAll(async () => {
  [portA, portB] = [await freePort(), await freePort()];
});

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

function create(
  config: Omit<RedisStoreOptions, 'encryptionKeys'>,
  options = storeOptions,
  base?: RedisClient,
) {
  const client = createRedisClient({ ...config, encryptionKeys }, options, base);
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** A client that must be one connection (a server, or a master behind Sentinel), not a Cluster. */
function server(...args: Parameters<typeof create>): Redis {
  const client = create(...args);
  if (client instanceof Cluster) throw new Error('expected one connection, got a Cluster');
  return client;
}

function track<T extends RedisClient>(client: T): T {
  client.on('error', () => {});
  clients.push(client);
  return client;
}

describe('createRedisClient, one server', () => {
  it('passes host, port, db, credentials and TLS over the store options', () => {
    const client = server({
      host: '127.0.0.1',
      port: portA,
      db: 4,
      username: 'app',
      password: PASSWORD,
      tls: true,
    });
    expect(client).toBeInstanceOf(Redis);
    expect(client).not.toBeInstanceOf(Cluster);
    expect(client.options).toMatchObject({
      host: '127.0.0.1',
      port: portA,
      db: 4,
      username: 'app',
      password: PASSWORD,
      tls: {},
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: 1_234,
    });
    expect(client.options.retryStrategy).toBe(retryStrategy);
    expect(client.status).toBe('wait');
  });

  it('uses no TLS unless asked for, and no credentials that were not given', () => {
    for (const tls of [undefined, false]) {
      const client = server({ host: '127.0.0.1', port: portA, tls });
      expect(client.options.tls).toBeUndefined();
      expect(client.options.username).toBeNull();
      expect(client.options.password).toBeNull();
      expect(client.options.db).toBe(0);
    }
  });

  it('adds the separate fields to a URL without them, over the store options', () => {
    const client = server({ url: `redis://127.0.0.1:${portA}/5`, username: 'app', password: PASSWORD });
    expect(client.options).toMatchObject({
      host: '127.0.0.1',
      port: portA,
      db: 5,
      username: 'app',
      password: PASSWORD,
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: 1_234,
    });
    expect(client.options.retryStrategy).toBe(retryStrategy);
    expect(client.status).toBe('wait');
  });

  it('connects to a URL with TLS when tls is true', () => {
    expect(server({ url: `redis://127.0.0.1:${portA}`, tls: true }).options.tls).toEqual({});
    expect(server({ url: `redis://127.0.0.1:${portA}` }).options.tls).toBeUndefined();
  });
});

describe('createRedisClient, Sentinel', () => {
  it('asks the listed sentinels for the named master, with every credential and TLS', () => {
    const client = server({
      sentinel: {
        sentinels: [`127.0.0.1:${portA}`, { host: 'localhost', port: portB }],
        name: 'main',
        sentinelUsername: 'watcher',
        sentinelPassword: SENTINEL_PASSWORD,
      },
      username: 'app',
      password: PASSWORD,
      db: 2,
      tls: true,
    });
    expect(client).toBeInstanceOf(Redis);
    expect(client.options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: portA },
        { host: 'localhost', port: portB },
      ],
      name: 'main',
      sentinelUsername: 'watcher',
      sentinelPassword: SENTINEL_PASSWORD,
      username: 'app',
      password: PASSWORD,
      db: 2,
      tls: {},
      enableTLSForSentinelMode: true,
      lazyConnect: true,
      enableOfflineQueue: false,
      commandTimeout: 1_234,
    });
    expect(client.status).toBe('wait');
  });

  it('speaks plain TCP to the sentinels and sends them no credentials unless given', () => {
    const client = server({ sentinel: { sentinels: [`127.0.0.1:${portA}`], name: 'main' } });
    expect(client.options.sentinels).toEqual([{ host: '127.0.0.1', port: portA }]);
    expect(client.options.tls).toBeUndefined();
    expect(client.options.enableTLSForSentinelMode).toBe(false);
    expect(client.options.sentinelUsername).toBeUndefined();
    expect(client.options.sentinelPassword).toBeUndefined();
    expect(client.options.password).toBeNull();
    expect(client.options.db).toBe(0);
  });

  it('asks unreachable sentinels again on the store schedule, or every second without one', () => {
    const scheduled = server({ sentinel: { sentinels: [`127.0.0.1:${portA}`], name: 'main' } });
    expect(scheduled.options.sentinelRetryStrategy?.(3)).toBe(21);
    expect(scheduled.options.sentinelRetryStrategy?.(50)).toBe(350);

    const { retryStrategy: _none, ...unscheduled } = storeOptions;
    const fallback = server({ sentinel: { sentinels: [`127.0.0.1:${portA}`], name: 'main' } }, unscheduled);
    expect(fallback.options.sentinelRetryStrategy?.(3)).toBe(1_000);
  });
});

describe('createRedisClient, Cluster', () => {
  /** ioredis keeps the seed nodes in a private field; they are what the cluster is discovered from. */
  const seedNodes = (cluster: Cluster) => (cluster as unknown as { startupNodes: unknown }).startupNodes;

  it('discovers the cluster from the listed nodes, credentials and TLS on every node', () => {
    const client = create({
      cluster: { nodes: [`127.0.0.1:${portA}`, { host: 'localhost', port: portB }] },
      username: 'app',
      password: PASSWORD,
      tls: true,
    });
    expect(client).toBeInstanceOf(Cluster);
    const cluster = client as Cluster;
    expect(seedNodes(cluster)).toEqual([
      { host: '127.0.0.1', port: portA },
      { host: 'localhost', port: portB },
    ]);
    expect(cluster.options).toMatchObject({ lazyConnect: true, enableOfflineQueue: false });
    expect(cluster.options.redisOptions).toMatchObject({
      username: 'app',
      password: PASSWORD,
      tls: {},
      enableOfflineQueue: false,
      commandTimeout: 1_234,
      connectTimeout: 1_500,
    });
    expect(cluster.status).toBe('wait');
  });

  it('retries redirections within the budget and never reconnects a lost node by itself', () => {
    const cluster = create({ cluster: { nodes: [`127.0.0.1:${portA}`] } }) as Cluster;
    expect(cluster.options).toMatchObject({
      retryDelayOnFailover: 20,
      retryDelayOnClusterDown: 20,
      retryDelayOnTryAgain: 20,
      slotsRefreshInterval: 1_000,
      slotsRefreshTimeout: 1_234,
    });
    expect(cluster.options.clusterRetryStrategy).toBe(retryStrategy);
    expect(cluster.options.redisOptions).not.toHaveProperty('retryStrategy');
    expect(cluster.options.redisOptions).not.toHaveProperty('lazyConnect');
    expect(cluster.options.redisOptions?.password).toBeUndefined();
    expect(cluster.options.redisOptions?.tls).toBeUndefined();
  });

  it('refreshes the slot map within the command timeout, never under 500 ms', () => {
    const slotsTimeout = (commandTimeout: number | undefined) =>
      (create({ cluster: { nodes: [`127.0.0.1:${portA}`] } }, { ...storeOptions, commandTimeout }) as Cluster)
        .options.slotsRefreshTimeout;
    expect(slotsTimeout(5_000)).toBe(5_000);
    expect(slotsTimeout(100)).toBe(500);
    expect(slotsTimeout(undefined)).toBe(500);
  });
});

describe("createRedisClient on an application's connection", () => {
  it('duplicates a connection: its server and credentials, the store options, the original untouched', () => {
    const base = track(
      new Redis({ lazyConnect: true, host: '127.0.0.1', port: portA, password: PASSWORD, db: 3 }),
    );
    // The configuration's topology is not used: the application's connection says where Redis is.
    const client = server({ host: 'localhost', port: portB }, storeOptions, base);
    expect(client).not.toBe(base);
    expect(client).toBeInstanceOf(Redis);
    expect(client.options).toMatchObject({
      host: '127.0.0.1',
      port: portA,
      password: PASSWORD,
      db: 3,
      enableOfflineQueue: false,
      commandTimeout: 1_234,
    });
    expect(base.options.enableOfflineQueue).toBe(true);
    expect(base.options.commandTimeout).toBeUndefined();
  });

  it('duplicates a Cluster: its nodes and node credentials, with the store options on top', () => {
    const base = track(
      new Cluster([{ host: '127.0.0.1', port: portA }], {
        lazyConnect: true,
        redisOptions: { password: PASSWORD, tls: {}, commandTimeout: 99 },
      }),
    );
    const client = create({}, storeOptions, base);
    expect(client).not.toBe(base);
    expect(client).toBeInstanceOf(Cluster);
    const cluster = client as Cluster;
    expect(cluster.options).toMatchObject({
      lazyConnect: true,
      enableOfflineQueue: false,
      slotsRefreshTimeout: 1_234,
    });
    expect(cluster.options.clusterRetryStrategy).toBe(retryStrategy);
    expect(cluster.options.redisOptions).toMatchObject({
      password: PASSWORD,
      tls: {},
      enableOfflineQueue: false,
      commandTimeout: 1_234,
    });
    expect(cluster.options.redisOptions).not.toHaveProperty('retryStrategy');
    expect(base.options.enableOfflineQueue).toBe(true);
    expect(base.options.redisOptions?.commandTimeout).toBe(99);
  });

  it('duplicates a Cluster given without node options', () => {
    const base = track(new Cluster([{ host: '127.0.0.1', port: portA }], { lazyConnect: true }));
    const cluster = create({}, storeOptions, base) as Cluster;
    expect(cluster.options.redisOptions).toMatchObject({ enableOfflineQueue: false, commandTimeout: 1_234 });
  });
});
