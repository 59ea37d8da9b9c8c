/**
 * Mutation testing of the refresh engine (`libs/token/src/refresh/`): `npm run test:mutation`
 * (about half an hour on a loaded 2-core machine; not part of `.ci/run`).
 * Jest runs in native ESM, so its child processes get `--experimental-vm-modules`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  checkers: [],
  // The refresh engine. The cron glue (token-refresh.scheduler.ts), the service facade, the OAuth2
  // strategy and the HTTP integration are covered by the e2e suites instead: with Jest in ESM each
  // mutant costs a few seconds here, and those files would triple the run.
  mutate: [
    'libs/token/src/refresh/*.ts',
    '!libs/token/src/refresh/*.spec.ts',
    '!libs/token/src/refresh/token-refresh.scheduler.ts',
  ],
  ignoreStatic: true,
  concurrency: 1,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
