/**
 * `node dist/bench/diagrams/cell-states.js [OUT.mmd]` (`npm run cell-diagram`): writes the state
 * diagram of the token cell, in Mermaid, from its transition table (`CELL_TRANSITIONS` in
 * `token-cache-entry.ts`): the picture in the docs is generated, never drawn by hand, and a test
 * fails when the committed file no longer matches the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  CELL_TRANSITIONS,
  type CellState,
  type CellTransition,
} from '../../libs/token/src/refresh/token-cache-entry.js';

/** Mermaid ids cannot hold a dash. */
const id = (state: CellState) => state.replace(/-/g, '_');

export function renderCellDiagram(transitions: readonly CellTransition[] = CELL_TRANSITIONS): string {
  const states = new Set<CellState>();
  const edges: string[] = [];
  for (const transition of transitions) {
    for (const from of transition.from) {
      const to = transition.to ?? from;
      states.add(from).add(to);
      edges.push(`  ${id(from)} --> ${id(to)}: ${transition.name}`);
    }
  }
  const lines = [
    '%% Generated from CELL_TRANSITIONS (libs/token/src/refresh/token-cache-entry.ts) by',
    '%% bench/diagrams/cell-states.ts (npm run cell-diagram). Do not edit by hand.',
    'stateDiagram-v2',
    '  [*] --> empty',
    ...[...states].sort().map((state) => `  state "${state}" as ${id(state)}`),
    // Time alone moves a held token through its windows.
    '  fresh --> should_refresh: time (refreshAt)',
    '  should_refresh --> must_refresh: time (mustRefreshAt)',
    '  must_refresh --> empty: time (usableUntil)',
    ...[...new Set(edges)],
  ];
  return `${lines.join('\n')}\n`;
}

/** The generated block of a docs page, between its `cell-states:start` and `cell-states:end` markers. */
export const DIAGRAM_BLOCK = /(<!-- cell-states:start[^>]*-->\n)[\s\S]*?(<!-- cell-states:end -->)/;

/** The page with `diagram` in its generated block, as a Mermaid code block. */
export function withDiagram(page: string, diagram: string): string {
  return page.replace(
    DIAGRAM_BLOCK,
    (_all, start: string, end: string) => `${start}\n\`\`\`mermaid\n${diagram}\`\`\`\n\n${end}`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = process.argv[2] ?? 'docs/cell-states.mmd';
  const page = process.argv[3] ?? 'docs/how-it-works.md';
  const diagram = renderCellDiagram();
  writeFileSync(out, diagram);
  writeFileSync(page, withDiagram(readFileSync(page, 'utf8'), diagram));
  console.log(`wrote ${out} and the diagram in ${page}`);
}
