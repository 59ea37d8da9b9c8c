import { TokenService } from '../libs/token/src/module/token.service.js';
import { azureTokenCycler, badgatewayOAuth2Fetch, type TokenClient } from './support/alternatives.js';
import { clientCredentialsStrategy } from './support/client-credentials.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { steadyLoad } from './support/steady-load.js';
import { LoopbackTokenEndpoint } from './support/token-endpoint.js';

const SCENARIO = 'outage';
const LIFETIME_S = 4;
const ENDPOINT_LATENCY_MS = 50;
const OURS = 'nest-token-manager';

/** How the endpoint goes down right after the first token was issued. */
const OUTAGES = {
  'endpoint answers 500': async (endpoint: LoopbackTokenEndpoint) => {
    endpoint.mode = 'error-500';
  },
  'endpoint closed': (endpoint: LoopbackTokenEndpoint) => endpoint.stop(),
} as const;

/**
 * The token endpoint goes down while the cached token still has most of its 4 s to live; steady load
 * runs through the refresh window and into the safety margin, stopping before the token expires.
 * Every caller should still get the cached token at once: zero failures, zero callers blocked.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const loadMs = LIFETIME_S * 1000 * 0.85;
  const rows: ResultRow[] = [];
  const detail: Record<string, unknown> = { lifetimeSeconds: LIFETIME_S, loadMs };

  const makers: { name: string; make: (endpoint: LoopbackTokenEndpoint) => Promise<TokenClient> }[] = [
    {
      name: OURS,
      make: async (endpoint) => {
        const service = new TokenService();
        service.register('bench', (await clientCredentialsStrategy(endpoint.tokenUrl)).strategy);
        return { name: OURS, singleFlight: true, getToken: () => service.getToken('bench') };
      },
    },
  ];
  if (!options.quick) {
    makers.push(
      { name: 'azure token cycler', make: (endpoint) => azureTokenCycler(endpoint.tokenUrl) },
      { name: 'badgateway OAuth2Fetch', make: async (endpoint) => badgatewayOAuth2Fetch(endpoint.origin) },
    );
  }
  const outages = pick(options, Object.keys(OUTAGES), ['endpoint answers 500']) as (keyof typeof OUTAGES)[];

  for (const outage of outages) {
    for (const maker of makers) {
      const endpoint = await new LoopbackTokenEndpoint({
        expiresInSeconds: LIFETIME_S,
        latencyMs: ENDPOINT_LATENCY_MS,
      }).start();
      const client = await maker.make(endpoint);
      await client.getToken();
      await OUTAGES[outage](endpoint);
      const requestsBefore = endpoint.requests;
      const report = await steadyLoad(client, loadMs);
      const isOurs = maker.name === OURS;
      const subject = `${maker.name} (${outage})`;
      rows.push(
        {
          scenario: SCENARIO,
          subject,
          figure: 'failed callers',
          value: report.failed,
          ...(isOurs ? { target: '0', met: report.failed === 0 } : {}),
          note: `of ${report.calls.toLocaleString('en-US')} calls${report.firstError ? `; ${report.firstError}` : ''}`,
        },
        {
          scenario: SCENARIO,
          subject,
          figure: 'blocked callers',
          value: report.waited,
          ...(isOurs ? { target: '0', met: report.waited === 0 } : {}),
          note: `max latency ${report.maxLatencyMs.toFixed(1)} ms; ${endpoint.requests - requestsBefore} refresh attempts reached the endpoint`,
        },
      );
      client.close?.();
      await endpoint.stop();
    }
  }
  detail.outages = outages;
  return { scenario: SCENARIO, rows, detail };
}
