import type { TokenStats } from '@app/token';
import type { DemoEvent, DemoRecorder } from './demo-recorder.js';

/** Where the view writes: a terminal it may redraw, or a sink of plain lines (CI logs, tests). */
export type DemoOutput =
  { kind: 'live'; write: (text: string) => void } | { kind: 'lines'; print: (line: string) => void };

const EVENTS_SHOWN = 4;
const BAR_WIDTH = 10;

/**
 * The demo's screen. Live: a header, one line per provider and the last few events, redrawn in
 * place on every tick. Lines: each event as a plain line when it happens, and a status line per
 * provider every few seconds, so a log reads as the same story.
 */
export class DemoView {
  private drawnLines = 0;
  private lastStatusAtMs = 0;

  constructor(
    private readonly output: DemoOutput,
    private readonly recorder: DemoRecorder,
    private readonly durationMs: number,
  ) {}

  /** Called by the recorder for every event. */
  event(event: DemoEvent): void {
    if (this.output.kind === 'lines') this.output.print(formatEvent(event));
  }

  /** A new phase of the script: a plain log gets a line for it and the status right after. */
  phase(text: string): void {
    if (this.output.kind !== 'lines') return;
    this.output.print(`${stamp(this.recorder.now())} ── ${text}`);
    this.lastStatusAtMs = -Infinity;
  }

  tick(stats: TokenStats, phase: string): void {
    const atMs = this.recorder.now();
    if (this.output.kind === 'lines') {
      if (atMs - this.lastStatusAtMs < 5_000) return;
      this.lastStatusAtMs = atMs;
      for (const name of Object.keys(this.recorder.timeline.providers))
        this.output.print(`${stamp(atMs)} ${this.providerLine(name, stats)}`);
      return;
    }
    const lines = [
      `nest-token-manager demo · ${(atMs / 1000).toFixed(1).padStart(4)} s / ${this.durationMs / 1000} s · ${phase}`,
      ...Object.keys(this.recorder.timeline.providers).map((name) => `  ${this.providerLine(name, stats)}`),
      '  ─ events ─',
      ...this.recorder.events.slice(-EVENTS_SHOWN).map((event) => `  ${formatEvent(event)}`),
    ];
    while (lines.length < EVENTS_SHOWN + 4) lines.push('');
    const columns = process.stdout.columns ?? 120;
    // Up to the first line drawn last time, then each line rewritten and cleared to its end.
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : '';
    this.output.write(up + lines.map((line) => `${line.slice(0, columns - 1)}\x1b[K`).join('\n') + '\n');
    this.drawnLines = lines.length;
  }

  private providerLine(name: string, stats: TokenStats): string {
    const p = stats.tokens[name];
    const line = this.recorder.timeline.providers[name]!;
    const served = line.servedPerSecond.reduce((a, b) => a + b, 0);
    const failed = line.failedPerSecond.reduce((a, b) => a + b, 0);
    const token = line.tokens.at(-1);
    const lifetime = token ? token.expiresMs - token.issuedMs : 1;
    const left = p?.expiresIn ?? 0;
    const filled = Math.max(0, Math.min(BAR_WIDTH, Math.round((left / lifetime) * BAR_WIDTH)));
    const bar = '█'.repeat(filled) + '·'.repeat(BAR_WIDTH - filled);
    const state = p?.degraded ? `DEGRADED, serving cached token (${p.consecutiveFailures} failed)` : `ok`;
    return (
      `${name.padEnd(8)} token #${String(line.tokens.length).padEnd(2)} ${bar} ${(left / 1000).toFixed(1).padStart(4)} s left` +
      ` · refreshes ${p?.refreshes ?? 0} · ${waits(p?.misses ?? 0, this.recorder.coldStartWaits.get(name))} · served ${served}` +
      ` · failed ${failed} · 401 retried ${p?.unauthorizedRetries ?? 0} · ${state}`
    );
  }
}

/** Waits split as they happened: the cold start's crowd apart from any later wait (after a 401). */
function waits(misses: number, coldStart: number | undefined): string {
  return coldStart === undefined
    ? `waiting ${misses} (cold start)`
    : `waited ${coldStart} at start, ${misses - coldStart} later`;
}

function stamp(atMs: number): string {
  return `[${(atMs / 1000).toFixed(1).padStart(4)} s]`;
}

function formatEvent(event: DemoEvent): string {
  return `${stamp(event.atMs)} ${event.provider.padEnd(8)} ${event.text}`;
}
