import { NestFactory } from '@nestjs/core';
import { TokenService } from '@app/token';
import { AppModule } from '../app.module.js';
import { KlingApiClient } from '../kling-api.client.js';
import { startDemoKlingApi } from './demo-kling-api.js';
import { startDemoOAuth2Server } from './demo-oauth2-server.js';

export interface DemoSummary {
  ok: boolean;
  klingApiAccepted: number;
  klingApiRejected: number;
  klingTokensMinted: number;
  oauth2TokenRequests: number;
  partnerCallsFailed: number;
  hitRate: number;
  coldCallers: number;
  misses: number;
}

/** Callers that arrive together on a cold cache: they all wait for, and share, one token per provider. */
const COLD_CONCURRENT_CALLERS = 1_000;
/** Calls afterwards, in waves of concurrent callers, as a busy service would make them. */
const WARM_CALLS = 20_000;
const CONCURRENT_API_CALLS = 300;

/**
 * The demo: two loopback services (a Kling-like API that checks self-signed JWTs and an OAuth2
 * server with an API behind it), one Nest app that calls both through nest-token-manager with many
 * concurrent calls, and a summary of what happened. Nothing outside 127.0.0.1 is contacted.
 */
export async function runDemo(
  options: { print?: (line: string) => void; logger?: false } = {},
): Promise<DemoSummary> {
  const print = options.print ?? ((line: string) => console.log(line));
  const klingAccessKey = process.env.KLING_ACCESS_KEY ?? 'demo-access-key';
  const klingSecretKey = process.env.KLING_SECRET_KEY ?? 'demo-secret-key-change-me';
  const partnerClientId = 'demo-client';
  const partnerClientSecret = 'demo-client-secret';

  const klingApi = await startDemoKlingApi(klingAccessKey, klingSecretKey);
  const partner = await startDemoOAuth2Server(partnerClientId, partnerClientSecret);
  const app = await NestFactory.createApplicationContext(
    AppModule.forDemo({
      klingApi: klingApi.origin,
      partnerAuth: partner.origin,
      klingAccessKey,
      klingSecretKey,
      partnerClientId,
      partnerClientSecret,
    }),
    { logger: options.logger ?? ['log', 'warn', 'error'] },
  );
  app.enableShutdownHooks();

  try {
    const tokens = app.get(TokenService);
    const kling = app.get(KlingApiClient);

    // 1. A cold cache and a crowd: every caller waits for, and shares, one token per provider.
    await Promise.all(
      Array.from({ length: COLD_CONCURRENT_CALLERS }, (_, i) => tokens.getToken(i % 2 ? 'kling' : 'partner')),
    );
    // 2. Steady traffic: every call is served from memory.
    for (let wave = 0; wave < WARM_CALLS / 1_000; wave++) {
      await Promise.all(
        Array.from({ length: 1_000 }, (_, i) => tokens.getToken(i % 2 ? 'kling' : 'partner')),
      );
    }

    // 3. A @UseToken('kling') client: the interceptor attaches the JWT to every request.
    const tasks = await Promise.allSettled(
      Array.from({ length: CONCURRENT_API_CALLS }, (_, i) =>
        kling.createVideoTask(`a cat surfing, take ${i}`),
      ),
    );

    // 4. Plain fetch with the header from the service.
    const balances = await Promise.all(
      Array.from({ length: CONCURRENT_API_CALLS }, async () => {
        const res = await fetch(`${partner.origin}/v1/balance`, {
          headers: await tokens.getAuthorizationHeader('partner'),
        });
        return res.status;
      }),
    );

    const stats = tokens.getStats();
    const failedTasks = tasks.filter((t) => t.status === 'rejected').length;
    const failedBalances = balances.filter((status) => status !== 200).length;
    const table: Record<string, string | number> = {
      'getToken calls, cold cache, all at once': COLD_CONCURRENT_CALLERS,
      'getToken calls, warm, in waves of 1,000': WARM_CALLS,
      'Kling API calls via @UseToken': `${klingApi.stats.accepted} accepted / ${klingApi.stats.rejected} rejected`,
      'Kling JWTs minted': stats.tokens.kling.refreshes,
      'Distinct JWTs seen by the Kling API': klingApi.stats.distinctTokens.size,
      'Partner API calls via fetch': `${balances.length - failedBalances} ok / ${failedBalances} failed`,
      'OAuth2 token requests': partner.stats.tokenRequests,
      'Cache hits / misses (misses = cold callers)': `${stats.hits} / ${stats.misses}`,
      'Hit rate': `${(stats.hitRate * 100).toFixed(2)} %`,
    };
    print('\nnest-token-manager demo');
    for (const [what, value] of Object.entries(table)) print(`  ${what.padEnd(46)} ${value}`);
    const ok =
      failedTasks === 0 &&
      failedBalances === 0 &&
      klingApi.stats.rejected === 0 &&
      partner.stats.tokenRequests === 1 &&
      stats.tokens.kling.refreshes === 1;
    print(ok ? 'demo ok: one token per provider served every call' : 'demo FAILED: see the table above');
    return {
      ok,
      klingApiAccepted: klingApi.stats.accepted,
      klingApiRejected: klingApi.stats.rejected,
      klingTokensMinted: stats.tokens.kling.refreshes,
      oauth2TokenRequests: partner.stats.tokenRequests,
      partnerCallsFailed: failedBalances,
      hitRate: stats.hitRate,
      coldCallers: COLD_CONCURRENT_CALLERS,
      misses: stats.misses,
    };
  } finally {
    await app.close();
    await Promise.all([klingApi.close(), partner.close()]);
  }
}
