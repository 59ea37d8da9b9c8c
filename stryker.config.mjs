/**
 * Mutation testing (`npm run test:mutation`, not part of `.ci/run`): the refresh engine, the token
 * strategies, the HTTP integration, the stores and the configuration. `MUTATION_PART=refresh|strategies|http|stores|config` (or the
 * `test:mutation:<part>` scripts) mutates one part only, with its own report files.
 * Jest runs in native ESM, so its child processes get `--experimental-vm-modules`.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const parts = {
  refresh: ['libs/token/src/refresh/*.ts', '!libs/token/src/refresh/*.spec.ts'],
  strategies: [
    'libs/token/src/strategies/**/*.ts',
    '!libs/token/src/strategies/**/*.spec.ts',
    // The strategies' helpers that moved to core/ and config/ (the option schemas stay out: declarative
    // zod, checked by oauth2.options.spec and the configuration fuzz test).
    'libs/token/src/core/oauth2-cache-key.ts',
    'libs/token/src/core/token-endpoint-url.ts',
    'libs/token/src/config/private-key.check.ts',
    'libs/token/src/config/private-key.pem.ts',
  ],
  http: [
    'libs/token/src/http/*.ts',
    '!libs/token/src/http/*.spec.ts',
    // Type augmentation only: no code.
    '!libs/token/src/http/axios-augmentation.ts',
    // Decorator and metadata glue (@UseToken, its accessor, the explorer and its AsyncLocalStorage).
    '!libs/token/src/http/use-token.decorator.ts',
    '!libs/token/src/http/token-metadata.accessor.ts',
    '!libs/token/src/http/token-context.explorer.ts',
    '!libs/token/src/http/token-context.ts',
  ],
  // Every store file: the memory store, the Redis store with its lease, generation, keys, signals and
  // connection, the encryption, the factory and the optional-dependency loader.
  stores: ['libs/token/src/stores/*.ts', '!libs/token/src/stores/*.spec.ts'],
  // Every config file: the schemas (their refinements and transforms run per parse; the declarations
  // themselves are static and left out by ignoreStatic), the one parse, the start-up checks.
  config: [
    'libs/token/src/config/*.ts',
    '!libs/token/src/config/*.spec.ts',
    // Measured with the strategies, whose specs exercise them.
    '!libs/token/src/config/private-key.check.ts',
    '!libs/token/src/config/private-key.pem.ts',
  ],
};

const part = process.env.MUTATION_PART;
if (part !== undefined && !(part in parts)) {
  throw new Error(`MUTATION_PART must be one of ${Object.keys(parts).join(', ')}`);
}
// `MUTATION_CHUNK=<name>` (with `-- --mutate <files>`) keeps a run of a few files apart: its own
// report and incremental file, so that two chunks of one part can run side by side.
const chunk = process.env.MUTATION_CHUNK;
const name = (part ?? 'all') + (chunk ? `.${chunk}` : '');

export default {
  testRunner: 'jest',
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  // Related tests only: a mutant loads the spec files that import its file (directly or not), not
  // every suite of jest.mutation.config.js.
  jest: { configFile: 'jest.mutation.config.js', enableFindRelatedTests: true },
  coverageAnalysis: 'perTest',
  checkers: [],
  mutate: part ? parts[part] : Object.values(parts).flat(),
  ignoreStatic: true,
  concurrency: 1,
  // Jest in native ESM keeps every run's module graph: a worker's heap grows by gigabytes and each
  // run slows down with it. A fresh worker every 20 mutants costs a second and keeps runs quick.
  maxTestRunnerReuse: 20,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress-append-only', 'json'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  // Used with `--incremental`: only mutants whose code or covering tests changed run again.
  incrementalFile: `reports/mutation/${name}.incremental.json`,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 85, break: null },
};
