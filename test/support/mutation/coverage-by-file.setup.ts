import { afterAll, afterEach, expect } from '@jest/globals';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** What StrykerJS's Jest environment shares with the instrumented code (`__stryker__`). */
interface StrykerContext {
  currentTestId?: string;
  mutantCoverage?: { static: Record<string, number>; perTest: Record<string, Record<string, number>> };
}

// Only in StrykerJS's initial run (perTest coverage, no active mutant): notes which mutants the tests
// of this spec file reach, so that a mutant's run loads only the spec files that reach it
// (read by sequencer.js from the sandbox's working directory).
const stryker = (globalThis as { __stryker__?: StrykerContext }).__stryker__;
const reached = new Set<string>();

// `mutantCoverage` appears once the first instrumented module loads, after this file: read it late.
// Mutants run while this spec file loads its modules count too (their `static` count goes up).
if (stryker !== undefined && !process.env.__STRYKER_ACTIVE_MUTANT__) {
  const staticBefore = { ...stryker.mutantCoverage?.static };
  afterEach(() => {
    const testId = stryker.currentTestId;
    const perTest = stryker.mutantCoverage?.perTest;
    for (const id of Object.keys((testId !== undefined && perTest?.[testId]) || {})) reached.add(id);
  });
  afterAll(() => {
    for (const [id, count] of Object.entries(stryker.mutantCoverage?.static ?? {})) {
      if (count > (staticBefore[id] ?? 0)) reached.add(id);
    }
    const line = JSON.stringify({ testPath: expect.getState().testPath, mutants: [...reached] });
    appendFileSync(join(process.cwd(), '.stryker-coverage-by-file.jsonl'), `${line}\n`);
  });
}
