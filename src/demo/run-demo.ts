import { setTimeout as sleep } from 'node:timers/promises';
import { NestFactory } from '@nestjs/core';
import { TokenService, type TokenStats } from '@app/token';
import { AppModule } from '../app.module.js';
import { KlingApiClient } from '../kling-api.client.js';
import { PartnerApiClient } from '../partner-api.client.js';
import { startCallers } from './demo-load.js';
import { DemoLogger } from './demo-logger.js';
import { DemoRecorder, type DemoTimeline, type ProviderTimeline } from './demo-recorder.js';
import { DEMO_SCENARIO, type DemoScenario } from './demo-scenario.js';
import { printSummary } from './demo-summary.js';
import { DemoView, type DemoOutput } from './demo-view.js';
import { startDemoKlingApi } from './demo-kling-api.js';
import { startDemoOAuth2Server } from './demo-oauth2-server.js';

export interface DemoOptions {
  /** Plain lines go here (default console.log); ignored when `live` is on. */
  print?: (line: string) => void;
  /** Redraw a compact view in place on stdout (default: when stdout is a terminal). */
  live?: boolean;
  /** `false`: no Nest log lines at all (tests). */
  logger?: false;
  scenario?: DemoScenario;
}

export interface DemoSummary {
  /** Every check passed. */
  ok: boolean;
  /** What the demo set out to show, each true when it happened. */
  checks: Record<string, boolean>;
  stats: TokenStats;
  timeline: DemoTimeline;
  callsServed: number;
  callsFailed: number;
  tokenRequestsRefused: number;
  /** Calls per provider that waited for a token in the cold start; `misses` beyond it came later. */
  coldStartWaits: Record<string, number>;
}

/**
 * The demo: two loopback services (a Kling-like API that checks self-signed JWTs, an OAuth2 server
 * with an API behind it), one Nest app calling both through `@UseToken` clients with steady traffic,
 * tokens that live seconds, and a script of trouble: the API revokes a token (401), the token
 * endpoint goes down and comes back. Nothing outside 127.0.0.1 is contacted.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const scenario = options.scenario ?? DEMO_SCENARIO;
  const print = options.print ?? ((line: string) => console.log(line));
  const live = options.live ?? (options.print === undefined && process.stdout.isTTY === true);
  const output: DemoOutput = live
    ? { kind: 'live', write: (text) => process.stdout.write(text) }
    : { kind: 'lines', print };

  const klingAccessKey = process.env.KLING_ACCESS_KEY ?? 'demo-access-key';
  const klingSecretKey = process.env.KLING_SECRET_KEY ?? 'demo-secret-key-change-me';
  const klingApi = await startDemoKlingApi(klingAccessKey, klingSecretKey);
  const partner = await startDemoOAuth2Server(
    'demo-client',
    'demo-client-secret',
    scenario.partnerLifetimeSeconds,
  );
  const logger = new DemoLogger();
  const app = await NestFactory.createApplicationContext(
    AppModule.forDemo(
      {
        klingApi: klingApi.origin,
        partnerAuth: partner.origin,
        klingAccessKey,
        klingSecretKey,
        partnerClientId: 'demo-client',
        partnerClientSecret: 'demo-client-secret',
      },
      scenario,
    ),
    { logger: options.logger ?? logger },
  );

  const timers: NodeJS.Timeout[] = [];
  try {
    const tokens = app.get(TokenService);
    const margins = { kling: scenario.klingMarginMs, partner: scenario.partnerMarginMs };
    const recorder = new DemoRecorder(tokens, margins, scenario.durationMs);
    const view = new DemoView(output, recorder, scenario.durationMs);
    recorder.listener = (event) => view.event(event);
    // Whole lines: the live view fits them to the terminal; a plain log keeps them as they are.
    logger.sink = (text) => recorder.note('log', text);
    let phase = '';
    // Each phase shows as it starts: a line in a plain log, the header of the live view.
    const enterPhase = (next: string) => {
      phase = next;
      view.phase(next);
    };
    enterPhase('steady traffic, tokens refreshed in the background');
    const draw = () => {
      recorder.sample();
      view.tick(tokens.getStats(), phase);
    };
    timers.push(setInterval(draw, live ? 100 : 250));

    // A cold cache and a crowd: every caller waits for, and shares, one token per provider.
    await Promise.all(
      Array.from({ length: scenario.coldCallers }, (_, i) => tokens.getToken(i % 2 ? 'kling' : 'partner')),
    );
    recorder.coldStartEnded();
    const kling = app.get(KlingApiClient);
    const partnerClient = app.get(PartnerApiClient);
    const callers = [
      startCallers(
        scenario.callersPerProvider,
        scenario.pauseBetweenCallsMs,
        () => kling.createVideoTask('a cat surfing'),
        (ok) => recorder.callEnded('kling', ok),
      ),
      startCallers(
        scenario.callersPerProvider,
        scenario.pauseBetweenCallsMs,
        () => partnerClient.balance(),
        (ok) => recorder.callEnded('partner', ok),
      ),
    ];

    timers.push(
      setTimeout(() => {
        if (klingApi.revokeLatestToken())
          recorder.note('kling', 'the API revokes the token it last accepted');
        enterPhase('kling API revoked a token: 401, each request retried once with a new token');
      }, scenario.klingRevokeAtMs - recorder.now()),
    );
    timers.push(
      setTimeout(() => {
        partner.setTokenEndpointDown(true);
        recorder.outageStarted('partner');
        enterPhase('partner token endpoint DOWN, callers served the cached token');
        const endOutage = () => {
          if (recorder.timeline.outage?.endMs !== scenario.durationMs) return;
          partner.setTokenEndpointDown(false);
          recorder.outageEnded('partner');
          enterPhase('partner token endpoint back: recovery');
        };
        // Back up half the announced backoff after the second failed refresh, so the next retry
        // finds it up while the cached token is still valid; at the latest one lifetime on.
        let failures = 0;
        tokens.events.on('refresh-failed', ({ provider, retryInMs }) => {
          if (provider === 'partner' && ++failures === scenario.partnerOutageFailures)
            timers.push(setTimeout(endOutage, retryInMs / 2));
        });
        timers.push(setTimeout(endOutage, scenario.partnerLifetimeSeconds * 1000 - scenario.partnerMarginMs));
      }, scenario.partnerOutageAtMs - recorder.now()),
    );

    await sleep(Math.max(0, scenario.durationMs - recorder.now()));
    await Promise.all(callers.map((c) => c.stop()));
    for (const timer of timers) clearTimeout(timer);
    enterPhase('done');
    draw();

    const stats = tokens.getStats();
    const summary = summarize(recorder, stats, partner.stats.tokenRequestsRefused);
    printSummary(output.kind === 'live' ? (line) => process.stdout.write(`${line}\n`) : print, summary);
    return summary;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await app.close();
    await Promise.all([klingApi.close(), partner.close()]);
  }
}

/** The demo's checks: what it set out to show, read from the recording and `getStats()`. */
function summarize(recorder: DemoRecorder, stats: TokenStats, tokenRequestsRefused: number): DemoSummary {
  const timeline = recorder.timeline;
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const lines = Object.values(timeline.providers);
  const callsServed = sum(lines.map((line) => sum(line.servedPerSecond)));
  const callsFailed = sum(lines.map((line) => sum(line.failedPerSecond)));
  const kling = timeline.providers['kling']!;
  const partner = timeline.providers['partner']!;
  const outageEnd = timeline.outage?.endMs ?? Infinity;
  const checks = {
    'every API call served': callsFailed === 0 && callsServed > 0,
    'tokens refreshed in the background, no caller waiting':
      kling.tokens.filter((t) => t.background).length >= 3 &&
      waitedForRefresh(kling) + waitedForRefresh(partner) === 0,
    'a 401 recovered once': (stats.tokens['kling']?.unauthorizedRetries ?? 0) >= 1,
    'token endpoint down, callers kept being served':
      partner.failures.length >= 1 && tokenRequestsRefused >= 1,
    'recovered after the outage':
      partner.tokens.some((t) => t.issuedMs >= outageEnd) && !stats.tokens['partner']?.degraded,
  };
  return {
    ok: Object.values(checks).every(Boolean),
    checks,
    stats,
    timeline,
    callsServed,
    callsFailed,
    tokenRequestsRefused,
    coldStartWaits: Object.fromEntries(recorder.coldStartWaits),
  };
}

/**
 * Tokens a caller had to wait for, other than the first one (the cold start) and the one that
 * replaced a token the API refused (a 401 is noticed by the view's next tick, hence the second).
 */
function waitedForRefresh(line: ProviderTimeline): number {
  return line.tokens
    .slice(1)
    .filter((t) => !t.background && !line.unauthorized.some((at) => Math.abs(at - t.issuedMs) < 1_000))
    .length;
}
