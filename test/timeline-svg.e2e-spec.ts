import { describe, expect, it } from '@jest/globals';
import { renderTimeline } from '../bench/timeline/timeline-svg.js';
import type { DemoTimeline } from '../src/demo/demo-recorder.js';

// The README's timeline (docs/demo-timeline.svg) is drawn from a recorded run, not by hand: each recorded fact must show.
const token = (issuedMs: number, background: boolean) => ({
  issuedMs,
  expiresMs: issuedMs + 4_000,
  windowStartMs: issuedMs + 2_000,
  windowEndMs: issuedMs + 3_000,
  background,
});
const run: DemoTimeline = {
  durationMs: 10_000,
  providers: {
    kling: {
      tokens: [token(0, false), token(2_200, true), token(4_400, true)],
      failures: [],
      unauthorized: [3_000],
      servedPerSecond: Array.from({ length: 10 }, () => 100),
      failedPerSecond: Array.from({ length: 10 }, () => 0),
    },
    partner: {
      tokens: [token(0, false)],
      failures: [5_000, 5_600],
      unauthorized: [],
      servedPerSecond: Array.from({ length: 10 }, () => 90),
      failedPerSecond: [0, 0, 0, 0, 0, 3, 0, 0, 0, 0],
    },
  },
  outage: { provider: 'partner', startMs: 4_000, endMs: 6_000 },
};

describe('timeline SVG', () => {
  const svg = renderTimeline(run);
  const count = (pattern: RegExp) => svg.match(pattern)?.length ?? 0;

  it.each([
    { what: 'a fresh segment per token', pattern: /fill="#4c9f70"\/>/g, expected: 4 + 1 },
    { what: 'a refresh window per token', pattern: /fill="#f2b134"\/>/g, expected: 4 + 1 },
    { what: 'a filled issue mark per background token', pattern: /fill="#1b5e3a" stroke/g, expected: 2 },
    {
      what: 'a hollow issue mark per token a caller waited for',
      pattern: /fill="#fff" stroke="#1b5e3a"/g,
      expected: 2 + 1,
    },
    { what: 'a cross per failed refresh', pattern: /stroke="#c0392b" stroke-width="2.5"/g, expected: 2 + 1 },
    { what: 'a mark per 401', pattern: /<circle cx="[\d.]+" cy/g, expected: 1 + 1 },
    {
      what: 'a red cap for each second with failed calls',
      pattern: /<title>3 failed<\/title>/g,
      expected: 1,
    },
  ])('draws $what', ({ pattern, expected }) => {
    // Legend entries are included in the expected counts where they share the mark.
    expect(count(pattern)).toBe(expected);
  });

  it('draws the outage window with its length, and is one well-formed SVG', () => {
    expect(svg).toContain('partner token endpoint down (503): 2.0 s');
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(count(/<svg /g)).toBe(1);
  });
});
