/** Jest 30 in native ESM mode (run through `node --experimental-vm-modules`), compiled by SWC. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'es6' },
  },
];

export default {
  testEnvironment: 'node',
  rootDir: '.',
  roots: ['<rootDir>/libs', '<rootDir>/test', '<rootDir>/src'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^@app/token$': '<rootDir>/libs/token/src/index.ts',
    '^@app/token/(.*)$': '<rootDir>/libs/token/src/$1',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  collectCoverageFrom: [
    'libs/token/src/**/*.ts',
    '!libs/token/src/**/*.spec.ts',
    '!libs/token/src/testing/**',
    '!libs/token/src/testing-support/**',
    '!libs/token/src/index.ts',
  ],
  coverageDirectory: 'coverage',
  coverageReporters: ['text-summary', 'lcov'],
  coverageThreshold: { global: { lines: 80, statements: 80, functions: 80, branches: 70 } },
  setupFilesAfterEnv: ['<rootDir>/test/support/secret-scan.setup.ts'],
  testTimeout: 30000,
};
