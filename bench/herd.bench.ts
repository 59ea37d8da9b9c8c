import { TokenService } from '../libs/token/src/module/token.service.js';
import {
  azureTokenCycler,
  badgatewayOAuth2Fetch,
  googleOAuth2Client,
  naiveFetchEveryTime,
  simpleOAuth2Cached,
  type TokenClient,
} from './support/alternatives.js';
import { clientCredentialsStrategy } from './support/client-credentials.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { elapsedNs, median } from './support/stats.js';
import { LoopbackTokenEndpoint } from './support/token-endpoint.js';

const SCENARIO = 'herd';
const CALLERS = 10_000;
/** What the loopback endpoint takes to answer: a round trip to a real token endpoint is never free. */
const ENDPOINT_LATENCY_MS = 50;
const OURS = 'nest-token-manager';

/**
 * 10,000 callers ask a cold cache for a token at once. Figures: token requests the endpoint saw, and
 * the wall time until the last caller has its token divided by one plain round trip to the same
 * endpoint measured just before (so ≈ 1 means "done in one round trip").
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const rounds = pick(options, 3, 1);
  const endpoint = await new LoopbackTokenEndpoint({
    expiresInSeconds: 3600,
    latencyMs: ENDPOINT_LATENCY_MS,
  }).start();
  let strategyKind = '';

  const makers: { name: string; make: () => Promise<TokenClient> }[] = [
    {
      name: OURS,
      make: async () => {
        const service = new TokenService();
        const { strategy, kind, why } = await clientCredentialsStrategy(endpoint.tokenUrl);
        strategyKind = why === undefined ? kind : `${kind} (${why})`;
        service.register('bench', strategy);
        return { name: OURS, singleFlight: true, getToken: () => service.getToken('bench') };
      },
    },
    { name: 'azure token cycler', make: () => azureTokenCycler(endpoint.tokenUrl) },
    { name: 'badgateway OAuth2Fetch', make: async () => badgatewayOAuth2Fetch(endpoint.origin) },
    { name: 'google-auth-library OAuth2Client', make: async () => googleOAuth2Client(endpoint.tokenUrl) },
    { name: 'simple-oauth2 + README cache', make: async () => simpleOAuth2Cached(endpoint.origin) },
    { name: 'naive fetch every time', make: async () => naiveFetchEveryTime(endpoint.tokenUrl) },
  ];

  const figures = new Map<
    string,
    { callers: number; requests: number[]; wallMs: number[]; perRoundTrip: number[]; failed: number[] }
  >();
  for (let round = 0; round < rounds; round++) {
    for (const maker of makers) {
      const roundTripMs = await plainRoundTripMs(endpoint.tokenUrl);
      const client = await maker.make();
      endpoint.reset();
      const start = process.hrtime.bigint();
      const callers = Math.min(CALLERS, client.maxHerdCallers ?? CALLERS);
      const settled = await Promise.allSettled(Array.from({ length: callers }, () => client.getToken()));
      const wallMs = elapsedNs(start) / 1e6;
      client.close?.();
      const entry = figures.get(maker.name) ?? {
        callers,
        requests: [],
        wallMs: [],
        perRoundTrip: [],
        failed: [],
      };
      entry.requests.push(endpoint.requests);
      entry.wallMs.push(wallMs);
      entry.perRoundTrip.push(wallMs / roundTripMs);
      entry.failed.push(settled.filter((outcome) => outcome.status === 'rejected').length);
      figures.set(maker.name, entry);
    }
  }
  await endpoint.stop();

  const rows: ResultRow[] = [];
  for (const [name, entry] of figures) {
    const isOurs = name === OURS;
    const requests = median(entry.requests);
    const perRoundTrip = median(entry.perRoundTrip);
    const failed = Math.max(...entry.failed);
    rows.push(
      {
        scenario: SCENARIO,
        subject: name,
        figure: `token requests for ${entry.callers.toLocaleString('en-US')} callers`,
        value: requests,
        ...(isOurs ? { target: '1', met: requests === 1 } : {}),
        ...(failed > 0 ? { note: `${failed} callers failed` } : isOurs ? { note: strategyKind } : {}),
      },
      {
        scenario: SCENARIO,
        subject: name,
        figure: 'wall time / one round trip',
        value: perRoundTrip,
        unit: '×',
        ...(isOurs ? { target: '≈ 1 (≤ 1.5)', met: perRoundTrip <= 1.5 } : {}),
        note: `${median(entry.wallMs).toFixed(0)} ms; endpoint answers in ${ENDPOINT_LATENCY_MS} ms`,
      },
    );
  }
  return {
    scenario: SCENARIO,
    rows,
    detail: {
      rounds,
      callers: CALLERS,
      endpointLatencyMs: ENDPOINT_LATENCY_MS,
      figures: Object.fromEntries(figures),
    },
  };
}

/** Median of three plain `fetch` POSTs to the endpoint: what one token request costs, nothing else. */
async function plainRoundTripMs(tokenUrl: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    const response = await fetch(tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' });
    await response.arrayBuffer();
    times.push(elapsedNs(start) / 1e6);
  }
  return median(times);
}
