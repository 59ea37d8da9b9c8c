import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { DIAGRAM_BLOCK, renderCellDiagram, withDiagram } from '../bench/diagrams/cell-states.js';
import { CELL_TRANSITIONS } from '../libs/token/src/refresh/token-cache-entry.js';

const FILE = new URL('../docs/cell-states.mmd', import.meta.url);
const PAGE = new URL('../docs/how-it-works.md', import.meta.url);
// The docs' state diagram of the token cell is generated from its transition table, not drawn by hand.
describe('token cell state diagram', () => {
  it('docs/cell-states.mmd and the diagram in docs/how-it-works.md are what the transition table generates (UPDATE_CELL_DIAGRAM=1 rewrites them)', () => {
    const generated = renderCellDiagram();
    if (process.env.UPDATE_CELL_DIAGRAM === '1') {
      writeFileSync(FILE, generated);
      writeFileSync(PAGE, withDiagram(readFileSync(PAGE, 'utf8'), generated));
    }
    expect(readFileSync(FILE, 'utf8')).toBe(generated);
    const page = readFileSync(PAGE, 'utf8');
    expect(DIAGRAM_BLOCK.test(page)).toBe(true);
    expect(page).toBe(withDiagram(page, generated));
  });

  it('every transition of the table appears as an edge', () => {
    const diagram = renderCellDiagram();
    for (const transition of CELL_TRANSITIONS) expect(diagram).toContain(`: ${transition.name}`);
  });
});
