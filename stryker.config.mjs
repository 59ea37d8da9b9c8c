/**
 * Mutation testing of the refresh engine, the OAuth2 strategy and the 401 renewal of the HTTP
 * integration: `npm run test:mutation` (minutes on a 2-core machine; not part of `.ci/run`).
 * Jest runs in native ESM, so its child processes get `--experimental-vm-modules`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: false },
  coverageAnalysis: 'perTest',
  checkers: [],
  mutate: [
    'libs/token/src/refresh/*.ts',
    '!libs/token/src/refresh/*.spec.ts',
    'libs/token/src/token.service.ts',
    'libs/token/src/strategies/oauth2/oauth2.strategy.ts',
    'libs/token/src/http/token-request-authorizer.ts',
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
