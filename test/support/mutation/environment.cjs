/**
 * The Jest environment of `jest.mutation.config.js`: Node's, plus what `--bail` would do if StrykerJS
 * could use it (it cannot: Jest's bail ends the process). Once a test has failed while a mutant is
 * active, that mutant is killed; the rest of its tests, in this spec file and the next ones of the
 * same run, are skipped instead of run. Outside a mutant's run (Jest alone, StrykerJS's initial
 * coverage run) every test runs.
 */
const { TestEnvironment } = require('jest-environment-node');

/** The mutant a test failed for; kept across spec files (this module is loaded once per process). */
let killed;

class MutationEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
    if (mutant === undefined) return;
    if (event.name === 'test_start' && killed === mutant) event.test.mode = 'skip';
    if (event.name === 'test_done' && event.test.errors.length > 0) killed = mutant;
  }
}

module.exports = MutationEnvironment;
/** The mutant a test failed for, read by jest-circus-skip-killed.cjs to skip loading the next spec files. */
module.exports.killedMutant = () => killed;
