/**
 * One replica of the fleet scenario: a `TokenService` on the given store, steady load on one provider
 * once the orchestrating process says "start", then a summary back over IPC.
 * argv[2]: JSON of {@link FleetMemberConfig}.
 */
import { Logger } from '@nestjs/common';
import type { TokenStore } from '../../libs/token/src/core/token-store.interface.js';
import { TokenService } from '../../libs/token/src/module/token.service.js';
import { clientCredentialsStrategy } from './client-credentials.js';
import { steadyLoad } from './steady-load.js';

export interface FleetMemberConfig {
  tokenUrl: string;
  durationMs: number;
  /** `memory`: no sharing (the control); `redis`: the library's Redis store. */
  store: 'memory' | 'redis';
  redis?: { storeModule: string; keyPrefix: string; encryptionKey: string };
}

export interface FleetMemberReport {
  calls: number;
  waited: number;
  failed: number;
  expiredSends: number;
  tokensSeen: number;
  firstError?: string;
}

Logger.overrideLogger(false);
const config = JSON.parse(process.argv[2]) as FleetMemberConfig;

let store: TokenStore | undefined;
if (config.store === 'redis' && config.redis !== undefined) {
  const module = (await import(config.redis.storeModule)) as {
    RedisTokenStore: new (options: Record<string, unknown>) => TokenStore;
  };
  store = new module.RedisTokenStore({
    host: '127.0.0.1',
    port: 6379,
    keyPrefix: config.redis.keyPrefix,
    encryptionKeys: [{ kid: 'bench', key: config.redis.encryptionKey }],
  });
}
const service = new TokenService({ store });
service.register('bench', (await clientCredentialsStrategy(config.tokenUrl)).strategy);

process.once('message', async () => {
  const report = await steadyLoad(
    { name: 'replica', singleFlight: true, getToken: () => service.getToken('bench') },
    config.durationMs,
    4,
  );
  const summary: FleetMemberReport = {
    calls: report.calls,
    waited: report.waited,
    failed: report.failed,
    expiredSends: report.expiredSends,
    tokensSeen: report.tokenUse.size,
    firstError: report.firstError,
  };
  process.send!(summary, async () => {
    await service.onApplicationShutdown();
    process.exit(0);
  });
});
await service.getToken('bench'); // the first token: a cold miss by definition, and the warm-up
process.send!('ready');
