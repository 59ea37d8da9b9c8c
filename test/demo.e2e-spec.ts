import { describe, expect, it, jest } from '@jest/globals';
import { DemoLogger } from '../src/demo/demo-logger.js';
import { runDemo } from '../src/demo/run-demo.js';

// The demo is the product's first impression: it must show, in a real 20-second run on loopback,
// what the library is for, and say so only when it happened.
describe('demo app', () => {
  it('shows background refreshes, a 401 recovered, an outage survived and recovery, and exits ok', async () => {
    const lines: string[] = [];
    // The demo's own logger, as `npm run demo` has it: the library's warnings become lines of the story.
    const logged: string[] = [];
    for (const level of ['warn', 'error'] as const) {
      const original = DemoLogger.prototype[level];
      jest.spyOn(DemoLogger.prototype, level).mockImplementation(function (
        this: DemoLogger,
        message: unknown,
      ) {
        logged.push(String(message));
        original.call(this, message);
      });
    }
    const summary = await runDemo({ print: (line) => lines.push(line) });
    jest.restoreAllMocks();
    const output = lines.join('\n');

    expect(summary.checks).toEqual({
      'every API call served': true,
      'tokens refreshed in the background, no caller waiting': true,
      'a 401 recovered once': true,
      'token endpoint down, callers kept being served': true,
      'recovered after the outage': true,
    });
    expect(summary.ok).toBe(true);
    expect(summary.callsFailed).toBe(0);

    const { kling, partner } = summary.timeline.providers;
    // Short-lived tokens, replaced many times: all but the first and the one after the 401 in the
    // background, each before it expired.
    expect(kling!.tokens.length).toBeGreaterThanOrEqual(6);
    expect(kling!.tokens.filter((token) => !token.background).length).toBeLessThanOrEqual(2);
    for (const [previous, next] of kling!.tokens
      .slice(0, -1)
      .map((t, i) => [t, kling!.tokens[i + 1]!] as const))
      expect(next.issuedMs).toBeLessThan(previous.expiresMs);
    // The outage: refreshes failed inside it, a new token came after it, calls went on throughout.
    const outage = summary.timeline.outage!;
    expect(outage.provider).toBe('partner');
    expect(partner!.failures.every((at) => at >= outage.startMs && at <= outage.endMs)).toBe(true);
    const duringOutage = partner!.servedPerSecond.slice(
      Math.ceil(outage.startMs / 1000),
      Math.floor(outage.endMs / 1000),
    );
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(duringOutage.every((served) => served > 0)).toBe(true);
    expect(summary.stats.tokens['kling']?.unauthorizedRetries).toBeGreaterThanOrEqual(1);

    // Plain lines (no terminal): the story as events, then getStats() and the verdict.
    expect(output).toContain('token endpoint DOWN');
    expect(output).toContain('API answered 401');
    expect(output).toContain('getStats()');
    expect(output).toContain('demo ok');
    expect(output).not.toContain('\x1b[');
    expect(output).not.toContain('demo-secret-key-change-me');
    expect(output).not.toContain('demo-client-secret');

    // Each phase shows as it starts, and the quiet after the endpoint goes down is explained at once.
    for (const phase of [
      'steady traffic',
      'kling API revoked a token',
      'partner token endpoint DOWN',
      'recovery',
    ])
      expect(lines.some((line) => line.includes('── ') && line.includes(phase))).toBe(true);
    const down = lines.findIndex((line) => line.includes('token endpoint DOWN (503)'));
    expect(lines[down + 1]).toMatch(
      /partner +the cached token is valid \d+\.\d s more .* next refresh attempt is due in about \d+\.\d s/,
    );
    // Library lines whole, however long.
    expect(logged.length).toBeGreaterThan(0);
    for (const message of logged) expect(output).toContain(message);
    // Figures that agree with the checks: the waits are the cold start's, none for a scheduled refresh.
    expect(output).toMatch(/waited at start +later/);
    expect(output).not.toMatch(/ waited \d+ · /);
    expect(summary.coldStartWaits.partner).toBeGreaterThan(0);
    expect(summary.stats.tokens.partner!.misses - summary.coldStartWaits.partner!).toBe(0);
  }, 60_000);
});
