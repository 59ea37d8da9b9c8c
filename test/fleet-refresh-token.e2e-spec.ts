import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { OAuth2Strategy } from '../libs/token/src/strategies/oauth2/oauth2.strategy.js';
import { RotatingOAuth2Server } from './support/fleet-rotating-oauth2-server.js';
import { ReplicaProcess } from './support/fleet-replicas.js';

// Replica processes and sleeps sized to token lifetimes: tens of seconds by design, more on a loaded
// 2-core machine. The scenario's own waits bound what it proves; this only stops a hung run.
jest.setTimeout(120_000);

/**
 * Refresh tokens shared across the fleet: 4 replica processes with the real OAuth2 strategy, against
 * a server that rotates refresh tokens and refuses any but the newest. Whichever replica holds the
 * lease must refresh with the newest refresh token, which lives in the encrypted shared entry.
 */
const REDIS_URL = 'redis://127.0.0.1:6379';
const encryptionKeys = [{ kid: 'rt', key: randomBytes(32).toString('base64') }];
const prefix = `ntm-rt:${randomUUID()}:`;

let replicas: ReplicaProcess[] = [];
let server: RotatingOAuth2Server | undefined;

afterEach(async () => {
  await Promise.all(replicas.map((replica) => replica.stop().catch(() => replica.kill())));
  replicas = [];
  await server?.close();
  const admin = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  await admin.quit();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fleet mode with an issuer that rotates refresh tokens', () => {
  it('4 replicas over 10 token lifetimes: 0 invalid_grant, 0 reuse, one client-credentials grant', async () => {
    // 3 s tokens and a 5 s Redis budget: a loaded machine's pauses neither outlast a token's margin nor
    // look like an outage (a replica working on its own would start a second chain).
    const lifetimeMs = 3_000;
    server = new RotatingOAuth2Server(lifetimeMs);
    const tokenUrl = await server.start();
    replicas = await Promise.all(
      ['replica-1', 'replica-2', 'replica-3', 'replica-4'].map((id) =>
        ReplicaProcess.start({
          id,
          tokenUrl,
          safetyMarginMs: 600,
          callIntervalMs: 20,
          oauth2: { clientId: 'fleet-rt', clientSecret: 'Fleet-rt-client-SECRET-77d0' },
          redis: { url: REDIS_URL, keyPrefix: prefix, encryptionKeys, budgetMs: 5_000 },
        }),
      ),
    );
    await sleep(10 * lifetimeMs);
    const reports = await Promise.all(replicas.map((replica) => replica.report()));

    for (const report of reports) {
      expect({ id: report.id, failures: report.failures, errors: report.errors }).toEqual({
        id: report.id,
        failures: 0,
        errors: [],
      });
    }
    expect({ invalidGrants: server.invalidGrants, reuses: server.reuses }).toEqual({
      invalidGrants: 0,
      reuses: 0,
    });
    // The fleet started one refresh-token chain and kept spending its newest link.
    expect(server.grants.client_credentials).toBe(1);
    expect(server.grants.refresh_token).toBeGreaterThanOrEqual(5);
  });

  it('OAuth2Strategy spends the refresh token of the shared entry rather than its own older one', async () => {
    server = new RotatingOAuth2Server(60_000);
    const tokenUrl = await server.start();
    const config = { tokenUrl, clientId: 'fleet-rt', clientSecret: 'Fleet-rt-client-SECRET-77d0' };
    const [a, b] = [new OAuth2Strategy(config), new OAuth2Strategy(config)];
    const first = await a.generate(); // client credentials; `a` keeps its refresh token
    const second = await b.generate({ previous: first }); // `b` refreshes with it
    const third = await a.generate({ previous: second }); // `a` must use b's, not its own spent one
    expect(third.extra.refresh_token).toEqual(expect.any(String));
    expect(server.grants).toEqual({ client_credentials: 1, refresh_token: 2 });
    expect({ invalidGrants: server.invalidGrants, reuses: server.reuses }).toEqual({
      invalidGrants: 0,
      reuses: 0,
    });
    // Without a shared entry a strategy keeps working from its own (here the newest) refresh token.
    await a.generate();
    expect(server.grants).toEqual({ client_credentials: 1, refresh_token: 3 });
  });
});
