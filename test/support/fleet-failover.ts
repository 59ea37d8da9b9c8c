import { expect } from '@jest/globals';
import type { RedisStoreOptions } from '../../libs/token/src/config/redis-store.options.js';
import { FleetTokenEndpoint } from './fleet-token-endpoint.js';
import { eventually, ReplicaProcess, type ReplicaReport } from './fleet-replicas.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The scenario the Cluster and Sentinel suites share: replica processes calling `getToken()` every
 * 20 ms against one token endpoint, through a Redis topology; the suite kills a master in between.
 */
export class FailoverFleet {
  readonly endpoint: FleetTokenEndpoint;
  replicas: ReplicaProcess[] = [];
  #requestsBeforeKill = 0;

  constructor(
    readonly lifetimeMs = 3_000,
    readonly safetyMarginMs = 300,
  ) {
    this.endpoint = new FleetTokenEndpoint(lifetimeMs);
  }

  async start(count: number, redis: RedisStoreOptions): Promise<void> {
    const tokenUrl = await this.endpoint.start();
    const ids = Array.from({ length: count }, (_, index) => `replica-${index + 1}`);
    this.replicas = await Promise.all(
      ids.map((id) =>
        ReplicaProcess.start({
          id,
          tokenUrl,
          safetyMarginMs: this.safetyMarginMs,
          callIntervalMs: 20,
          redis,
        }),
      ),
    );
  }

  reports(): Promise<ReplicaReport[]> {
    return Promise.all(this.replicas.map((replica) => replica.report()));
  }

  /** The token every replica used last, when they all agree. */
  async commonToken(): Promise<string | undefined> {
    const all = await this.reports();
    return all.every((report) => report.current !== undefined && report.current === all[0].current)
      ? all[0].current
      : undefined;
  }

  onOneToken(what: string, limitMs: number): Promise<string> {
    return eventually(what, () => this.commonToken(), limitMs);
  }

  /** Two lifetimes of traffic cost what one process would spend on them. */
  async expectOneProcessWorthOfRequests(): Promise<void> {
    await sleep(2 * this.lifetimeMs);
    const { requests } = this.endpoint;
    const spanMs = requests[requests.length - 1].at - requests[0].at;
    expect(requests.length).toBeLessThanOrEqual(
      Math.floor(spanMs / (this.lifetimeMs - 2 * this.safetyMarginMs)) + 1,
    );
  }

  /** Call just before killing a master: the failover's extra requests are counted from here. */
  markKill(): void {
    this.#requestsBeforeKill = this.endpoint.requests.length;
  }

  /** No replica had a failed call or an expired token; prints what the failover cost. */
  async expectNoFailedCaller(label: string): Promise<void> {
    const final = await this.reports();
    for (const report of final) {
      expect({
        id: report.id,
        failures: report.failures,
        errors: report.errors,
        expired: report.expiredUses,
      }).toEqual({ id: report.id, failures: 0, errors: [], expired: 0 });
    }
    process.stdout.write(
      `${label}: ${this.endpoint.requests.length - this.#requestsBeforeKill} token requests after the kill; ` +
        `slowest call ${Math.max(...final.map((report) => report.slowestCallMs))} ms\n`,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.stop().catch(() => replica.kill())));
    await this.endpoint.close();
  }
}
