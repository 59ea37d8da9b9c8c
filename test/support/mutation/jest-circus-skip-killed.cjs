/**
 * (Its file name holds "jest-circus": StrykerJS's perTest coverage accepts only a runner so named.)
 * The Jest test runner of `jest.mutation.config.js`: jest-circus, except that once a mutant is killed
 * (a test failed while it was active, see environment.cjs) the next spec files of its run are not
 * loaded at all. Loading a spec file re-imports its module graph in native ESM, the bulk of a mutant's
 * time; the file is reported as one failed test instead, which changes nothing: the mutant is killed.
 */
const circus = require('jest-circus/runner').default;
const { createEmptyTestResult } = require('@jest/test-result');
const { killedMutant } = require('./environment.cjs');

const SKIPPED = 'not loaded: the mutant was killed by an earlier spec file of this run';

module.exports = async function mutationRunner(globalConfig, config, environment, runtime, testPath, send) {
  const mutant = process.env.__STRYKER_ACTIVE_MUTANT__;
  if (mutant === undefined || killedMutant() !== mutant) {
    return circus(globalConfig, config, environment, runtime, testPath, send);
  }
  const result = createEmptyTestResult();
  result.testFilePath = testPath;
  result.numFailingTests = 1;
  result.failureMessage = SKIPPED;
  result.testResults = [
    {
      ancestorTitles: [],
      duration: 0,
      failureDetails: [],
      failureMessages: [SKIPPED],
      fullName: `${SKIPPED} (${testPath})`,
      invocations: 1,
      location: null,
      numPassingAsserts: 0,
      retryReasons: [],
      startAt: null,
      status: 'failed',
      title: SKIPPED,
    },
  ];
  return result;
};
