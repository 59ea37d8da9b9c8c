import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Logger } from '@nestjs/common';
import { Redis } from 'ioredis';
import { freePort } from '../testing-support/free-port.js';
import { LogCapture } from '../testing-support/log-capture.js';
import { RedisProxy } from '../testing-support/fleet-redis-proxy.js';
import type { RedisStoreOptions } from '../config/redis-store.options.js';
import type { RedisClient } from './redis-client.factory.js';
import { describeError, RedisConnection, resolveBudgetMs, UNAVAILABLE } from './redis-connection.js';

/** The real Redis on 127.0.0.1:6379 (CI starts one); each test uses its own keys and channel. */
const REDIS_URL = 'redis://127.0.0.1:6379';
const PASSWORD = 'redis-password-never-printed';
const encryptionKeys = [{ kid: 'k', key: randomBytes(32).toString('base64') }];
const WARNING_TAIL = 'each replica fetches its own tokens until it is back';
const BACK = 'log redis reachable again; tokens are shared across replicas';

const connections: RedisConnection[] = [];
const cleanups: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  await Promise.all(connections.splice(0).map((connection) => connection.close()));
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  jest.restoreAllMocks();
});

function open(config: Omit<RedisStoreOptions, 'encryptionKeys'>, client?: RedisClient) {
  const logs = new LogCapture();
  const connection = new RedisConnection(
    { ...config, encryptionKeys },
    `ntm-test:${randomUUID()}:channel`,
    () => {},
    logs as unknown as Logger,
    client,
  );
  connections.push(connection);
  return { connection, logs };
}

/**
 * An application's connection whose duplicates are recorded: the connection's command and
 * subscriber clients, in that order, with the options they were given. It is never connected.
 */
function recordingClient(url = REDIS_URL): { base: Redis; duplicates: Redis[] } {
  const duplicates: Redis[] = [];
  const record = (client: Redis) => {
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (override) => {
      const created = duplicate(override);
      duplicates.push(created);
      record(created);
      return created;
    };
  };
  const base = new Redis(url, { lazyConnect: true });
  record(base);
  cleanups.push(() => base.disconnect());
  return { base, duplicates };
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 10_000) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`'s value, or 'still pending' when it takes more than a few seconds (a hang, not a slow reply). */
function settledSoon<T>(promise: Promise<T>): Promise<T | 'still pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'still pending'>((resolve) => {
    timer = setTimeout(() => resolve('still pending'), 5_000);
  });
  return Promise.race([promise, pending]).finally(() => clearTimeout(timer));
}

/** A loopback server that accepts connections and never answers: Redis hung before its first reply. */
async function silentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

async function unreachableUrl(): Promise<string> {
  return `redis://app:${PASSWORD}@127.0.0.1:${await freePort()}`;
}

describe('RedisConnection options', () => {
  it('fails fast: no offline queue, no resend, no retry per request, reaping timeouts above the budget', () => {
    const { base, duplicates } = recordingClient();
    open({ budgetMs: 100 }, base);
    const [command, subscriber] = duplicates;
    expect(duplicates).toHaveLength(2);
    for (const client of [command, subscriber]) {
      expect(client.options).toMatchObject({
        lazyConnect: true,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 0,
        commandTimeout: 1_000,
        connectTimeout: 1_000,
        disconnectTimeout: 100,
      });
    }
    // The connection subscribes again itself on every `ready`.
    expect(subscriber.options.autoResubscribe).toBe(false);
    expect(base.options.enableOfflineQueue).toBe(true);
  });

  it('follows a larger budget, and keeps the disconnect timer short', () => {
    const { base, duplicates } = recordingClient();
    open({ budgetMs: 5_000 }, base);
    expect(duplicates[0].options).toMatchObject({
      commandTimeout: 5_000,
      connectTimeout: 5_000,
      disconnectTimeout: 250,
    });
  });

  it('takes the deprecated commandTimeoutMs as the budget, budgetMs first', () => {
    const timeouts = (config: Omit<RedisStoreOptions, 'encryptionKeys'>) => {
      const { base, duplicates } = recordingClient();
      open(config, base);
      return duplicates[0].options.commandTimeout;
    };
    expect(timeouts({ commandTimeoutMs: 3_000 })).toBe(3_000);
    expect(timeouts({ budgetMs: 2_000, commandTimeoutMs: 3_000 })).toBe(2_000);
  });

  it('reconnects with doubling pauses from 100 ms, capped at reconnectMaxDelayMs (2 s by default)', () => {
    const delays = (config: Omit<RedisStoreOptions, 'encryptionKeys'>) => {
      const { base, duplicates } = recordingClient();
      open(config, base);
      return [1, 2, 3, 5, 6, 11, 40].map((attempt) => duplicates[0].options.retryStrategy?.(attempt));
    };
    expect(delays({})).toEqual([100, 200, 400, 1_600, 2_000, 2_000, 2_000]);
    expect(delays({ reconnectMaxDelayMs: 300 })).toEqual([100, 200, 300, 300, 300, 300, 300]);
    expect(delays({ reconnectMaxDelayMs: 60_000 })).toEqual([100, 200, 400, 1_600, 3_200, 51_200, 51_200]);
  });
});

describe('resolveBudgetMs', () => {
  it('is budgetMs, else commandTimeoutMs, else 100 ms', () => {
    expect(resolveBudgetMs({ encryptionKeys, budgetMs: 500 })).toBe(500);
    expect(resolveBudgetMs({ encryptionKeys, budgetMs: 500, commandTimeoutMs: 300 })).toBe(500);
    expect(resolveBudgetMs({ encryptionKeys, commandTimeoutMs: 300 })).toBe(300);
    expect(resolveBudgetMs({ encryptionKeys })).toBe(100);
  });
});

describe('describeError', () => {
  it("gives an error's code, else its class, never its message", () => {
    const refused = Object.assign(new Error(`connect to redis://app:${PASSWORD}@db failed`), {
      code: 'ECONNREFUSED',
    });
    expect(describeError(refused)).toBe('ECONNREFUSED');
    expect(describeError(new TypeError(`redis://app:${PASSWORD}@db`))).toBe('TypeError');
    expect(describeError(Object.assign(new RangeError('x'), { code: 42 }))).toBe('RangeError');
    expect(describeError({ code: 'EPIPE' })).toBe('EPIPE');
  });

  it('names a timeout as such, whatever its wording', () => {
    expect(describeError(new Error('Command timed out'))).toBe('command timed out');
    expect(describeError(new Error('connection TIMED OUT after 5 s'))).toBe('command timed out');
    expect(describeError(new Error('refused'))).toBe('Error');
  });

  it('says "unknown error" for anything that is not an Error', () => {
    expect(describeError(undefined)).toBe('unknown error');
    expect(describeError(null)).toBe('unknown error');
    expect(describeError('timed out')).toBe('unknown error');
    expect(describeError({ message: 'timed out' })).toBe('unknown error');
  });
});

describe('RedisConnection health', () => {
  it('Redis unreachable: one warning naming the error code, never the password', async () => {
    const { base, duplicates } = recordingClient(await unreachableUrl());
    const { connection, logs } = open({ reconnectMaxDelayMs: 50 }, base);
    await waitFor(() => connection.degraded);
    // Reconnection attempts keep failing: still the one line.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(logs.lines).toEqual([`warn redis unavailable (ECONNREFUSED); ${WARNING_TAIL}`]);
    expect(logs.lines.join('\n')).not.toContain(PASSWORD);
    // Without a listener, ioredis prints every error of the subscriber connection as an "Unhandled
    // error event" on stderr (in production; under Jest the socket errors come from another realm
    // and it stays silent, hence the count instead of a look at the console).
    expect(duplicates[1].listenerCount('error')).toBeGreaterThan(0);
  });

  it('known down: connected() says no at once, without waiting for its deadline', async () => {
    const { connection } = open({ url: await unreachableUrl() });
    await waitFor(() => connection.degraded);
    expect(await settledSoon(connection.connected(Date.now() + 3_600_000))).toBe(false);
  });

  it('still starting: connected() waits until the deadline, then says no and warns once', async () => {
    const { connection, logs } = open({ url: `redis://127.0.0.1:${await silentServer()}`, budgetMs: 10_000 });
    expect(connection.degraded).toBe(false);
    expect(await connection.connected(Date.now() + 100)).toBe(false);
    expect(connection.degraded).toBe(true);
    expect(logs.lines).toEqual([`warn redis unavailable (not connected); ${WARNING_TAIL}`]);
    expect(await settledSoon(connection.connected(Date.now() + 3_600_000))).toBe(false);
  });

  it('connection lost: one warning; reconnected: one line saying so', async () => {
    const proxy = await RedisProxy.start();
    cleanups.push(() => proxy.close());
    const { connection, logs } = open({ url: proxy.url, budgetMs: 5_000, reconnectMaxDelayMs: 50 });
    expect(await connection.connected(Date.now() + 10_000)).toBe(true);
    expect(logs.lines).toEqual([]);

    proxy.dropConnections();
    await waitFor(() => connection.degraded);
    expect(logs.lines).toEqual([`warn redis unavailable (connection lost); ${WARNING_TAIL}`]);

    await waitFor(() => !connection.degraded);
    expect(logs.lines).toEqual([`warn redis unavailable (connection lost); ${WARNING_TAIL}`, BACK]);
    expect(await connection.connected(Date.now())).toBe(true);
  });

  it('a failed step warns with the error class, a later success says Redis is back; successes alone log nothing', async () => {
    const { connection, logs } = open({ url: REDIS_URL, budgetMs: 5_000 });
    expect(await connection.connected(Date.now() + 10_000)).toBe(true);
    const key = `ntm-test:${randomUUID()}:k`;
    expect(await connection.attempt((client) => client.exists(key), Date.now() + 5_000)).toBe(0);
    expect(logs.lines).toEqual([]);

    const failed = await connection.attempt(
      (client) => client.call('NTM-NO-SUCH-COMMAND'),
      Date.now() + 5_000,
    );
    expect(failed).toBe(UNAVAILABLE);
    expect(connection.degraded).toBe(true);
    expect(logs.lines).toEqual([`warn redis unavailable (ReplyError); ${WARNING_TAIL}`]);

    expect(await connection.attempt((client) => client.exists(key), Date.now() + 5_000)).toBe(0);
    expect(connection.degraded).toBe(false);
    expect(logs.lines).toEqual([`warn redis unavailable (ReplyError); ${WARNING_TAIL}`, BACK]);
  });
});

describe('RedisConnection.attempt', () => {
  it('gives up on a stalled step at the deadline, as a timeout', async () => {
    const { connection, logs } = open({ url: REDIS_URL, budgetMs: 10_000 });
    const stalled = connection.attempt(() => new Promise<never>(() => {}), Date.now() + 100);
    expect(await settledSoon(stalled)).toBe(UNAVAILABLE);
    expect(logs.lines).toEqual([`warn redis unavailable (command timed out); ${WARNING_TAIL}`]);
  });

  it('sends nothing once the deadline has come', async () => {
    const { connection, logs } = open({ url: REDIS_URL });
    const step = jest.fn((client: RedisClient) => client.ping());
    expect(await connection.attempt(step, Date.now() - 1)).toBe(UNAVAILABLE);

    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now);
    const atDeadline = connection.attempt(step, now);
    jest.restoreAllMocks();
    expect(await atDeadline).toBe(UNAVAILABLE);

    expect(step).not.toHaveBeenCalled();
    // Running out of time before asking is no sign of a Redis failure.
    expect(connection.degraded).toBe(false);
    expect(logs.lines).toEqual([]);
  });
});

describe('RedisConnection.close', () => {
  it('ends both connections quietly; nothing is sent or awaited afterwards', async () => {
    const { connection, logs } = open({ url: REDIS_URL, budgetMs: 5_000 });
    expect(await connection.connected(Date.now() + 10_000)).toBe(true);
    await waitFor(() => connection.status.subscriber === 'ready');

    await connection.close();
    expect(connection.status).toEqual({ command: 'end', subscriber: 'end' });
    expect(logs.lines).toEqual([]);
    expect(connection.degraded).toBe(false);

    const step = jest.fn((client: RedisClient) => client.ping());
    expect(await connection.attempt(step, Date.now() + 5_000)).toBe(UNAVAILABLE);
    expect(step).not.toHaveBeenCalled();
    expect(await settledSoon(connection.connected(Date.now() + 3_600_000))).toBe(false);
    expect(logs.lines).toEqual([]);
  });

  it('is idempotent', async () => {
    const { connection } = open({ url: REDIS_URL });
    const first = connection.close();
    expect(connection.close()).toBe(first);
    await first;
  });

  it('lets a pending reply arrive before it ends, within the budget', async () => {
    const { connection } = open({ url: REDIS_URL, budgetMs: 3_000 });
    expect(await connection.connected(Date.now() + 10_000)).toBe(true);
    // Redis answers this one after a second: nothing is ever pushed to the key.
    let answered: unknown = 'not yet';
    const pending = connection
      .attempt((client) => (client as Redis).blpop(`ntm-test:${randomUUID()}:empty`, 1), Date.now() + 10_000)
      .then((reply) => (answered = reply));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await connection.close();
    expect(answered).toBeNull();
    await pending;
    expect(connection.status).toEqual({ command: 'end', subscriber: 'end' });
  });

  it('ends connections to a Redis hung before its first reply, without waiting for it', async () => {
    const { base, duplicates } = recordingClient(`redis://127.0.0.1:${await silentServer()}`);
    const { connection } = open({ budgetMs: 20_000 }, base);
    expect(await connection.connected(Date.now() + 100)).toBe(false);
    expect(await settledSoon(connection.close())).toBeUndefined();
    // The sockets are ending: they close once the server has seen the end.
    await waitFor(() => connection.status.command === 'end' && connection.status.subscriber === 'end');
    expect(duplicates.map((client) => client.status)).toEqual(['end', 'end']);
    // The application's own connection is not the store's to close (nor ever connected).
    expect(base.status).toBe('wait');
  });

  it('stops reconnecting to a Redis that keeps dropping the connection', async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as AddressInfo).port;
    const { connection } = open({
      url: `redis://127.0.0.1:${port}`,
      budgetMs: 20_000,
      reconnectMaxDelayMs: 20,
    });
    await waitFor(() => accepted >= 4);

    expect(await settledSoon(connection.close())).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const afterClose = accepted;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(accepted).toBe(afterClose);
  });
});

describe('RedisConnection under inspect and JSON.stringify', () => {
  it('shows its state only, never the connection options', async () => {
    const { connection } = open({ url: await unreachableUrl() });
    expect(inspect(connection)).toBe(`RedisConnection { status: 'connecting', degraded: false }`);
    expect(JSON.parse(JSON.stringify(connection))).toEqual({ status: 'connecting', degraded: false });
    await waitFor(() => connection.degraded);
    expect(inspect(connection)).toMatch(/^RedisConnection \{ status: '\w+', degraded: true \}$/);
    expect(JSON.stringify(connection)).toMatch(/^\{"status":"\w+","degraded":true\}$/);
    expect(inspect(connection, { showHidden: true, depth: Infinity })).not.toContain(PASSWORD);
  });
});
