/**
 * `node dist/bench/timeline/timeline-svg.js RUN.json OUT.svg`: draws one recorded demo run (see
 * `npm run timeline`) as a timeline. Per provider: each token from issue to expiry, its background
 * refresh window, where a caller would have had to wait, when it was replaced, failed refreshes and
 * 401 recoveries; the outage; API calls served per second. Plain SVG, no dependency.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { DemoTimeline, ProviderTimeline, TimelineToken } from '../../src/demo/demo-recorder.js';

const WIDTH = 960;
const LEFT = 100;
const RIGHT = 24;
const TOP = 64;
const TOKEN_ROW = 16;
const LANE_GAP = 30;
const CALLS_HEIGHT = 46;
const COLORS = {
  fresh: '#4c9f70',
  window: '#f2b134',
  margin: '#d9d9d9',
  outage: '#e4572e',
  failure: '#c0392b',
  unauthorized: '#6a4c93',
  calls: '#3d7ab8',
  text: '#222',
  grid: '#eee',
};

export function renderTimeline(run: DemoTimeline): string {
  const durationS = Math.ceil(run.durationMs / 1000);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (ms: number) => LEFT + (Math.max(0, Math.min(ms, run.durationMs)) / run.durationMs) * plotWidth;
  const parts: string[] = [];
  const names = Object.keys(run.providers);
  const laneHeight = 2 * TOKEN_ROW + 8 + CALLS_HEIGHT;
  const bottom = TOP + names.length * (laneHeight + LANE_GAP);
  const height = bottom + 92;

  parts.push(
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">One demo run (npm run demo): token lifetimes, background refreshes, a 401, an outage</text>`,
    `<text x="${LEFT}" y="40" font-size="11" fill="#555">Recorded from a real ${durationS} s run on loopback; seconds-long tokens stand for the usual 30–60 minutes.</text>`,
  );
  for (let s = 0; s <= durationS; s++) {
    parts.push(
      `<line x1="${x(s * 1000)}" y1="${TOP - 8}" x2="${x(s * 1000)}" y2="${bottom - LANE_GAP + 6}" stroke="${COLORS.grid}"/>`,
    );
    if (s % 2 === 0)
      parts.push(
        `<text x="${x(s * 1000)}" y="${bottom - LANE_GAP + 20}" font-size="10" text-anchor="middle" fill="#555">${s} s</text>`,
      );
  }
  if (run.outage) {
    const { startMs, endMs, provider } = run.outage;
    parts.push(
      `<rect x="${x(startMs)}" y="${TOP - 12}" width="${x(endMs) - x(startMs)}" height="${bottom - LANE_GAP - TOP + 18}" fill="${COLORS.outage}" fill-opacity="0.10" stroke="${COLORS.outage}" stroke-dasharray="3 3"/>`,
      `<text x="${x(startMs) + 4}" y="${TOP - 16}" font-size="10" fill="${COLORS.outage}">${provider} token endpoint down (503): ${((endMs - startMs) / 1000).toFixed(1)} s</text>`,
    );
  }
  names.forEach((name, i) =>
    parts.push(...lane(name, run.providers[name]!, TOP + i * (laneHeight + LANE_GAP), x)),
  );
  parts.push(...legend(bottom + 30));

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" fill="${COLORS.text}">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function lane(name: string, line: ProviderTimeline, top: number, x: (ms: number) => number): string[] {
  const parts = [
    `<text x="${LEFT - 10}" y="${top + TOKEN_ROW + 4}" font-size="12" font-weight="bold" text-anchor="end">${name}</text>`,
  ];
  // Consecutive tokens overlap (the next arrives before the last expires): alternate two rows.
  line.tokens.forEach((token, i) => parts.push(...tokenBar(token, i, top + (i % 2) * TOKEN_ROW, x)));
  for (const at of line.failures) parts.push(cross(x(at), top + TOKEN_ROW, COLORS.failure));
  for (const at of line.unauthorized)
    parts.push(
      `<circle cx="${x(at)}" cy="${top + TOKEN_ROW}" r="5" fill="${COLORS.unauthorized}"/>`,
      `<text x="${x(at) + 8}" y="${top - 3}" font-size="10" fill="${COLORS.unauthorized}">401 → new token, retried once</text>`,
    );
  // API calls served per second, under the tokens.
  const callsTop = top + 2 * TOKEN_ROW + 8;
  const max = Math.max(1, ...line.servedPerSecond);
  parts.push(
    `<text x="${LEFT - 10}" y="${callsTop + CALLS_HEIGHT / 2}" font-size="10" text-anchor="end" fill="#555">calls served/s</text>`,
    `<text x="${LEFT - 10}" y="${callsTop + CALLS_HEIGHT / 2 + 12}" font-size="9" text-anchor="end" fill="#555">(max ${max})</text>`,
  );
  line.servedPerSecond.forEach((served, s) => {
    const h = (served / max) * (CALLS_HEIGHT - 4);
    const left = x(s * 1000) + 1;
    const w = x((s + 1) * 1000) - x(s * 1000) - 2;
    parts.push(
      `<rect x="${left}" y="${callsTop + CALLS_HEIGHT - h}" width="${w}" height="${h}" fill="${COLORS.calls}" fill-opacity="0.55"/>`,
    );
    const failed = line.failedPerSecond[s] ?? 0;
    if (failed > 0)
      parts.push(
        `<rect x="${left}" y="${callsTop}" width="${w}" height="4" fill="${COLORS.failure}"><title>${failed} failed</title></rect>`,
      );
  });
  return parts;
}

function tokenBar(token: TimelineToken, index: number, y: number, x: (ms: number) => number): string[] {
  const h = TOKEN_ROW - 4;
  const seg = (from: number, to: number, color: string) =>
    to > from
      ? `<rect x="${x(from)}" y="${y + 2}" width="${Math.max(0, x(to) - x(from))}" height="${h}" fill="${color}"/>`
      : '';
  const issued = x(token.issuedMs);
  return [
    seg(token.issuedMs, token.windowStartMs, COLORS.fresh),
    seg(token.windowStartMs, token.windowEndMs, COLORS.window),
    seg(token.windowEndMs, token.expiresMs, COLORS.margin),
    // Issue mark: filled when no caller waited for this token, hollow when one did.
    `<path d="M${issued} ${y + 2} l5 ${h / 2} l-5 ${h / 2} z" fill="${token.background ? '#1b5e3a' : '#fff'}" stroke="#1b5e3a"/>`,
    token.expiresMs <= Number.MAX_SAFE_INTEGER
      ? `<line x1="${x(token.expiresMs)}" y1="${y + 1}" x2="${x(token.expiresMs)}" y2="${y + h + 3}" stroke="#333" stroke-width="1.5"/>`
      : '',
    x(token.windowStartMs) - issued > 22
      ? `<text x="${issued + 8}" y="${y + h - 1}" font-size="9" fill="#fff">#${index + 1}</text>`
      : '',
  ];
}

function cross(cx: number, cy: number, color: string): string {
  return `<path d="M${cx - 5} ${cy - 5} L${cx + 5} ${cy + 5} M${cx + 5} ${cy - 5} L${cx - 5} ${cy + 5}" stroke="${color}" stroke-width="2.5"/>`;
}

function legend(y: number): string[] {
  const items: Array<[string, string]> = [
    [`<rect width="14" height="10" fill="${COLORS.fresh}"/>`, 'token fresh'],
    [`<rect width="14" height="10" fill="${COLORS.window}"/>`, 'refresh window (background)'],
    [`<rect width="14" height="10" fill="${COLORS.margin}"/>`, 'safety margin (a caller would wait)'],
    [`<rect x="6" width="2" height="12" fill="#333"/>`, 'expiry'],
    [`<path d="M2 0 l7 5 l-7 5 z" fill="#1b5e3a"/>`, 'new token, no caller waited'],
    [`<path d="M2 0 l7 5 l-7 5 z" fill="#fff" stroke="#1b5e3a"/>`, 'a caller waited'],
    [cross(7, 5, COLORS.failure), 'refresh failed'],
    [`<circle cx="7" cy="5" r="5" fill="${COLORS.unauthorized}"/>`, '401 recovered'],
    [
      `<rect width="14" height="10" fill="${COLORS.outage}" fill-opacity="0.15" stroke="${COLORS.outage}" stroke-dasharray="2 2"/>`,
      'token endpoint down',
    ],
    [
      `<rect width="14" height="10" fill="${COLORS.calls}" fill-opacity="0.55"/>`,
      'API calls served per second',
    ],
  ];
  const parts: string[] = [];
  let left = LEFT;
  let row = 0;
  for (const [mark, label] of items) {
    const width = 26 + label.length * 6.2;
    if (left + width > WIDTH - RIGHT) {
      left = LEFT;
      row++;
    }
    parts.push(
      `<g transform="translate(${left} ${y + row * 18})">${mark}<text x="20" y="10" font-size="11">${label}</text></g>`,
    );
    left += width + 14;
  }
  return parts;
}

// Run as a script (not when imported by a test).
const [script, input, output] = process.argv.slice(1);
if (script !== undefined && import.meta.url === pathToFileURL(script).href) {
  if (!input || !output) throw new Error('usage: timeline-svg.js RUN.json OUT.svg');
  writeFileSync(output, renderTimeline(JSON.parse(readFileSync(input, 'utf8')) as DemoTimeline));
  console.log(`written: ${output}`);
}
