import type { TokenService } from '@app/token';

/** One token's life on the demo's clock (ms from the start). */
export interface TimelineToken {
  issuedMs: number;
  expiresMs: number;
  /** The background refresh window: from here the next call (or the sweep) starts a refresh… */
  windowStartMs: number;
  /** …and from here a caller would have to wait for one. */
  windowEndMs: number;
  /** No caller waited for this token. */
  background: boolean;
}

/** What happened to one provider during the run. */
export interface ProviderTimeline {
  tokens: TimelineToken[];
  /** Failed refreshes (ms from the start). */
  failures: number[];
  /** 401s recovered by the HTTP integration (ms from the start, as seen by the view's tick). */
  unauthorized: number[];
  /** API calls answered 2xx in each second of the run. */
  servedPerSecond: number[];
  /** API calls that failed in each second of the run. */
  failedPerSecond: number[];
}

/** A real run, recorded: what `npm run demo -- --timeline=FILE` writes and the timeline SVG draws. */
export interface DemoTimeline {
  durationMs: number;
  providers: Record<string, ProviderTimeline>;
  outage?: { provider: string; startMs: number; endMs: number };
}

/** A line the view shows: something that happened, on the demo's clock. */
export interface DemoEvent {
  atMs: number;
  provider: string;
  text: string;
}

/**
 * Listens to `TokenService.events` and the load's outcomes and keeps the timeline and the event log.
 * The refresh window is worked out as the library plans it: margin = min(safetyMarginMs, lifetime / 4),
 * background refresh from `expiry − 2 × margin`, a caller waits only after `expiry − margin`.
 */
export class DemoRecorder {
  readonly timeline: DemoTimeline;
  readonly events: DemoEvent[] = [];
  private readonly startedAt = Date.now();
  private readonly lastRetries = new Map<string, number>();
  /** Calls per provider that waited for a token in the cold start (its crowd shares one token). */
  readonly coldStartWaits = new Map<string, number>();
  /** Told of every event as it is noted (the view). */
  listener: (event: DemoEvent) => void = () => {};

  constructor(
    private readonly tokens: TokenService,
    margins: Record<string, number>,
    durationMs: number,
  ) {
    const seconds = Math.ceil(durationMs / 1000);
    const providers: Record<string, ProviderTimeline> = {};
    for (const name of Object.keys(margins)) {
      providers[name] = {
        tokens: [],
        failures: [],
        unauthorized: [],
        servedPerSecond: new Array<number>(seconds).fill(0),
        failedPerSecond: new Array<number>(seconds).fill(0),
      };
    }
    this.timeline = { durationMs, providers };
    tokens.events.on('refreshed', ({ provider, expiresAt, background }) => {
      const line = providers[provider];
      if (line === undefined) return;
      const issuedMs = this.now();
      const expiresMs = expiresAt - this.startedAt;
      const margin = Math.min(margins[provider] ?? 0, (expiresMs - issuedMs) / 4);
      line.tokens.push({
        issuedMs,
        expiresMs,
        windowStartMs: expiresMs - 2 * margin,
        windowEndMs: expiresMs - margin,
        background,
      });
      const n = line.tokens.length;
      const how =
        n === 1 ? 'first token' : background ? 'refreshed in the background, no caller waited' : 'refreshed';
      this.note(provider, `token #${n}: ${how}; valid ${((expiresMs - issuedMs) / 1000).toFixed(1)} s`);
    });
    tokens.events.on('refresh-failed', ({ provider, error, retryInMs }) => {
      providers[provider]?.failures.push(this.now());
      const why = error.message.replace(/^token provider "[^"]*": (could not get a token: )?/, '');
      this.note(
        provider,
        `refresh failed (${why}); cached token still served; retry in ${(retryInMs / 1000).toFixed(1)} s`,
      );
    });
  }

  /** Milliseconds since the demo started. */
  now(): number {
    return Date.now() - this.startedAt;
  }

  note(provider: string, text: string): void {
    const event = { atMs: this.now(), provider, text };
    this.events.push(event);
    this.listener(event);
  }

  /** One API call's outcome, counted in the second it ended. */
  callEnded(provider: string, ok: boolean): void {
    const line = this.timeline.providers[provider];
    const second = Math.floor(this.now() / 1000);
    if (line === undefined || second >= line.servedPerSecond.length) return;
    (ok ? line.servedPerSecond : line.failedPerSecond)[second]!++;
  }

  /** Called on each tick of the view: notices 401 recoveries from the stats (they have no event). */
  sample(): void {
    const stats = this.tokens.getStats();
    for (const [name, line] of Object.entries(this.timeline.providers)) {
      const retries = stats.tokens[name]?.unauthorizedRetries ?? 0;
      const before = this.lastRetries.get(name) ?? 0;
      if (retries > before) {
        line.unauthorized.push(this.now());
        this.note(
          name,
          `API answered 401: token evicted, new token, request retried once (${retries - before}×)`,
        );
      }
      this.lastRetries.set(name, retries);
    }
  }

  /** The cold start is over: what each provider's crowd waited is counted apart from later waits. */
  coldStartEnded(): void {
    const stats = this.tokens.getStats();
    for (const name of Object.keys(this.timeline.providers))
      this.coldStartWaits.set(name, stats.tokens[name]?.misses ?? 0);
  }

  outageStarted(provider: string): void {
    const atMs = this.now();
    this.timeline.outage = { provider, startMs: atMs, endMs: this.timeline.durationMs };
    this.note(provider, 'token endpoint DOWN (503); the API behind it stays up');
    // Nothing visible happens until the next refresh is due: say when that is, so the quiet is expected.
    const token = this.timeline.providers[provider]?.tokens.at(-1);
    if (token === undefined) return;
    const seconds = (ms: number) => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
    this.note(
      provider,
      `the cached token is valid ${seconds(token.expiresMs - atMs)} more and keeps serving callers; ` +
        `the next refresh attempt is due in about ${seconds(token.windowStartMs - atMs)}`,
    );
  }

  outageEnded(provider: string): void {
    if (this.timeline.outage) this.timeline.outage.endMs = this.now();
    this.note(provider, 'token endpoint back up');
  }
}
