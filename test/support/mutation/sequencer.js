import Sequencer from '@jest/test-sequencer';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The test sequencer of `jest.mutation.config.js`. For a mutant's run, keeps only the spec files
 * whose tests reached that mutant in StrykerJS's initial run (noted by coverage-by-file.setup.ts):
 * StrykerJS filters tests by name, but Jest would still load, in native ESM, every spec file of the
 * run, most focused first. Without a note (or outside StrykerJS) every spec file runs, as with the default sequencer.
 */
export default class MutationSequencer extends Sequencer {
  sort(tests) {
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    const file = join(process.cwd(), '.stryker-coverage-by-file.jsonl');
    if (mutant === undefined || !existsSync(file)) return super.sort(tests);
    // Per spec file that reaches the mutant: how many mutants it reaches in all.
    const reaching = new Map();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line === '') continue;
      const { testPath, mutants } = JSON.parse(line);
      if (mutants.includes(mutant)) reaching.set(testPath, mutants.length);
    }
    const kept = tests.filter((test) => reaching.has(test.path));
    if (kept.length === 0) return super.sort(tests);
    // The most focused spec files first (the fewest mutants reached: the file's own spec, usually):
    // they are the likeliest to kill it, and once one has, the rest are not loaded (jest-circus-skip-killed.cjs).
    return kept.sort((a, b) => reaching.get(a.path) - reaching.get(b.path) || a.path.localeCompare(b.path));
  }
}
