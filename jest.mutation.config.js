/**
 * The Jest run StrykerJS repeats for every mutant (`npm run test:mutation`): the unit specs of the
 * part being mutated (`MUTATION_PART`, see stryker.config.mjs), all of them without one. Quick, no
 * real-time waits; the fuzz specs (a minute of generated cases) and the e2e suites stay in `npm test`.
 * In native ESM every spec file a mutant loads re-imports its modules (seconds on a loaded machine),
 * so a part loads only its own specs and, for a mutant, only the ones whose tests reached it in the
 * initial run, and once a test has killed the mutant the rest are skipped (test/support/mutation/).
 */
import base from './jest.config.js';

const specs = {
  refresh: [
    '<rootDir>/libs/token/src/refresh/**/*.spec.ts',
    '<rootDir>/libs/token/src/module/token.service.spec.ts',
    '<rootDir>/libs/token/src/module/token.service.engine.spec.ts',
    '<rootDir>/libs/token/src/module/token.service.freshness.spec.ts',
    '<rootDir>/libs/token/src/module/token.service.store.spec.ts',
  ],
  strategies: [
    '<rootDir>/libs/token/src/strategies/**/*.spec.ts',
    '<rootDir>/libs/token/src/core/oauth2-cache-key.spec.ts',
    '<rootDir>/libs/token/src/core/oauth2-cache-key.parts.spec.ts',
    '<rootDir>/libs/token/src/core/token-endpoint-url.spec.ts',
    '<rootDir>/libs/token/src/config/private-key.startup.spec.ts',
  ],
  http: ['<rootDir>/libs/token/src/http/**/*.spec.ts'],
  stores: ['<rootDir>/libs/token/src/stores/**/*.spec.ts'],
  config: ['<rootDir>/libs/token/src/config/**/*.spec.ts'],
};
/**
 * Left out of a part's runs: stores/inspect-secrets.spec.ts is a minute of `util.inspect` at any
 * depth of a whole module, for every mutant it reaches; the store's own inspection is checked by
 * redis-token.store.inspect.spec.ts.
 */
const slow = { stores: ['stores/inspect-secrets\\.spec\\.ts$'] };
const part = process.env.MUTATION_PART;

export default {
  ...base,
  roots: ['<rootDir>/libs'],
  testMatch: part in specs ? specs[part] : Object.values(specs).flat(),
  // The cell-writes check type-checks the tree (no behaviour, nothing a mutant changes): npm test only.
  testPathIgnorePatterns: [
    '/node_modules/',
    // The fuzz specs stay out, but the cell's model-based test: in a mutation run it checks 1,000
    // sequences with the fixed seed (a few seconds), and no other spec exercises the cell as fully.
    '(?<!\\.model)\\.fuzz\\.spec\\.ts$',
    ...(slow[part] ?? []),
    'token-cache-entry\\.writes\\.spec\\.ts$',
  ],
  setupFilesAfterEnv: [
    ...base.setupFilesAfterEnv,
    '<rootDir>/test/support/mutation/coverage-by-file.setup.ts',
  ],
  testSequencer: '<rootDir>/test/support/mutation/sequencer.js',
  testEnvironment: './test/support/mutation/environment.cjs',
  testRunner: '<rootDir>/test/support/mutation/jest-circus-skip-killed.cjs',
  coverageThreshold: undefined,
};
