import { TokenService } from '../libs/token/src/module/token.service.js';
import {
  azureTokenCycler,
  badgatewayOAuth2Fetch,
  googleOAuth2Client,
  type TokenClient,
} from './support/alternatives.js';
import { clientCredentialsStrategy } from './support/client-credentials.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { median, sleep } from './support/stats.js';
import { steadyLoad } from './support/steady-load.js';
import { LoopbackTokenEndpoint } from './support/token-endpoint.js';

const SCENARIO = 'lifetime';
const LIFETIME_S = 2;
const ENDPOINT_LATENCY_MS = 50;
const OURS = 'nest-token-manager';

/**
 * Tokens that live 2 s, under steady load for many lifetimes. After the first token (warm-up) no caller
 * should wait on a refresh, no token should be sent after its expiry, each token should serve at least
 * half its lifetime, and the hit rate should stay above 99 %. The alternatives run the same load with
 * their default settings, for comparison (full run only).
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const lifetimes = pick(options, 10, 3);
  const durationMs = lifetimes * LIFETIME_S * 1000;
  const rows: ResultRow[] = [];
  const detail: Record<string, unknown> = {
    lifetimeSeconds: LIFETIME_S,
    lifetimes,
    endpointLatencyMs: ENDPOINT_LATENCY_MS,
  };

  type Maker = {
    name: string;
    make: (endpoint: LoopbackTokenEndpoint) => Promise<{ client: TokenClient; hitRate?: () => number }>;
  };
  const makers: Maker[] = [
    {
      name: OURS,
      make: async (endpoint) => {
        const service = new TokenService();
        service.register('bench', (await clientCredentialsStrategy(endpoint.tokenUrl)).strategy);
        let base = { hits: 0, misses: 0 };
        const client: TokenClient = {
          name: OURS,
          singleFlight: true,
          getToken: () => service.getToken('bench'),
        };
        await client.getToken(); // warm-up: the first token is a cold miss by definition
        base = service.getStats();
        const hitRate = () => {
          const now = service.getStats();
          const hits = now.hits - base.hits;
          const misses = now.misses - base.misses;
          return hits / (hits + misses);
        };
        return { client, hitRate };
      },
    },
  ];
  if (!options.quick) {
    makers.push(
      {
        name: 'azure token cycler',
        make: async (endpoint) => ({ client: await azureTokenCycler(endpoint.tokenUrl) }),
      },
      {
        name: 'badgateway OAuth2Fetch',
        make: async (endpoint) => ({ client: badgatewayOAuth2Fetch(endpoint.origin) }),
      },
      {
        name: 'google-auth-library OAuth2Client',
        make: async (endpoint) => ({ client: googleOAuth2Client(endpoint.tokenUrl) }),
      },
    );
  }

  for (const maker of makers) {
    const endpoint = await new LoopbackTokenEndpoint({
      expiresInSeconds: LIFETIME_S,
      latencyMs: ENDPOINT_LATENCY_MS,
    }).start();
    const { client, hitRate } = await maker.make(endpoint);
    await client.getToken();
    await sleep(10);
    const requestsBefore = endpoint.requests;
    const report = await steadyLoad(client, durationMs);
    const requests = endpoint.requests - requestsBefore;
    client.close?.();
    await endpoint.stop();

    // Share of its lifetime each token served; the token still current at the end is left out.
    const uses = [...report.tokenUse.values()].sort((a, b) => a.issuedAt - b.issuedAt).slice(0, -1);
    const shares = uses.map((use) => (use.lastUsedAt - use.issuedAt) / (LIFETIME_S * 1000));
    const minShare = shares.length === 0 ? Number.NaN : Math.min(...shares);
    const requestsPerLifetime = requests / lifetimes;
    const servedWithoutWait = (report.calls - report.waited) / report.calls;
    const rate = hitRate?.() ?? servedWithoutWait;
    const isOurs = maker.name === OURS;
    const target = (text: string, met: boolean) => (isOurs ? { target: text, met } : {});
    const row = (figure: string, value: number, extra: Partial<ResultRow> = {}): ResultRow => ({
      scenario: SCENARIO,
      subject: maker.name,
      figure,
      value,
      ...extra,
    });
    rows.push(
      row('callers that waited on a refresh', report.waited, {
        ...target('0', report.waited === 0),
        note: `of ${report.calls.toLocaleString('en-US')} calls over ${lifetimes} lifetimes of ${LIFETIME_S} s; max latency ${report.maxLatencyMs.toFixed(1)} ms`,
      }),
      row('requests sent with an expired token', report.expiredSends, target('0', report.expiredSends === 0)),
      row('token requests per lifetime', requestsPerLifetime, {
        ...target('≈ 1–2', requestsPerLifetime <= 2),
        note: `${requests} in ${durationMs / 1000} s`,
      }),
      row('share of lifetime used (min)', minShare, {
        ...target('≥ 0.5', minShare >= 0.5),
        note: shares.length === 0 ? 'no token replaced' : `median ${median(shares).toFixed(2)}`,
      }),
      row(hitRate === undefined ? 'calls served without waiting' : 'cache hit rate', rate * 100, {
        unit: '%',
        ...target('> 99 %', rate > 0.99),
      }),
    );
    if (report.failed > 0) rows.push(row('failed callers', report.failed, { note: report.firstError }));
    detail[maker.name] = {
      calls: report.calls,
      waited: report.waited,
      failed: report.failed,
      requests,
      shares,
    };
  }
  return { scenario: SCENARIO, rows, detail };
}
