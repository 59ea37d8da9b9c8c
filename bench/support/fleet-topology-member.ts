/**
 * One replica of the fleet-topology scenario: a `TokenService` on the Redis store (one server,
 * Sentinel or Cluster, as the options say) under steady load once told "start", then a summary.
 * argv[2]: JSON of {@link TopologyMemberConfig}.
 */
import { Logger } from '@nestjs/common';
import type { RedisStoreOptions } from '../../libs/token/src/config/redis-store.options.js';
import type { TokenStore } from '../../libs/token/src/core/token-store.interface.js';
import { TokenService } from '../../libs/token/src/module/token.service.js';
import { TokenInfo } from '../../libs/token/src/core/token-info.js';
import type { TokenStrategy } from '../../libs/token/src/core/token-strategy.interface.js';

export interface TopologyMemberConfig {
  /** Sent as `x-member`, so the endpoint knows which replica asked. */
  member: number;
  tokenUrl: string;
  durationMs: number;
  storeModule: string;
  redis: RedisStoreOptions;
  safetyMarginMs: number;
}

export interface TopologyMemberReport {
  calls: number;
  failed: number;
  maxLatencyMs: number;
  firstError?: string;
}

Logger.overrideLogger(false);
const config = JSON.parse(process.argv[2]) as TopologyMemberConfig;
const { RedisTokenStore } = (await import(config.storeModule)) as {
  RedisTokenStore: new (options: RedisStoreOptions) => TokenStore;
};
const service = new TokenService({
  store: new RedisTokenStore(config.redis),
  safetyMarginMs: config.safetyMarginMs,
});
/** One POST per token, saying which replica asks. */
class MemberStrategy implements TokenStrategy {
  readonly cacheKey = 'bench-fleet-topology';
  async generate(): Promise<TokenInfo> {
    const response = await fetch(config.tokenUrl, {
      method: 'POST',
      headers: { 'x-member': String(config.member) },
    });
    const body = (await response.json()) as { access_token: string; expires_in: number };
    const now = Date.now();
    return new TokenInfo({
      token: body.access_token,
      issuedAt: now,
      expiresAt: now + body.expires_in * 1000,
    });
  }
}
service.register('bench', new MemberStrategy());

/** One call every this often: a busy service's pace, without sixteen processes spinning on two cores. */
const CALL_INTERVAL_MS = 5;

process.once('message', () => {
  const summary: TopologyMemberReport = { calls: 0, failed: 0, maxLatencyMs: 0 };
  const timer = setInterval(() => {
    const startedAt = performance.now();
    summary.calls++;
    service.getToken('bench').then(
      () => (summary.maxLatencyMs = Math.max(summary.maxLatencyMs, performance.now() - startedAt)),
      (error: unknown) => {
        summary.failed++;
        summary.firstError ??= (error as Error).message;
      },
    );
  }, CALL_INTERVAL_MS);
  setTimeout(() => {
    clearInterval(timer);
    process.send!(summary, async () => {
      await service.onApplicationShutdown();
      process.exit(0);
    });
  }, config.durationMs);
});
process.send!('ready');
