/**
 * Rules the library's tree keeps (`npm run lint:deps`), checked by dependency-cruiser over
 * libs/token/src, file by file. Type-only imports count (`tsPreCompilationDeps`): a type cycle is a
 * design tangle too. The cycles between folders are checked by .dependency-cruiser.folders.cjs.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const SRC = '^libs/token/src/';

module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      comment: 'No import cycle between files, type imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'http-not-refresh',
      comment: 'The HTTP integration asks TokenService; it never reaches into the refresh engine.',
      severity: 'error',
      from: { path: `${SRC}http/` },
      to: { path: `${SRC}refresh/` },
    },
    {
      name: 'zod-only-in-config',
      comment: 'Schemas and their one parse live in config/; nothing else depends on zod.',
      severity: 'error',
      from: { path: SRC, pathNot: `${SRC}config/` },
      to: { path: '(^|/)node_modules/zod/' },
    },
    {
      name: 'unit-specs-not-test',
      comment: "The library's unit specs import nothing from the e2e folder (test/) nor from bench/.",
      severity: 'error',
      from: { path: SRC },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-spec-helpers-in-library',
      comment: 'Library code never imports the spec helpers (testing-support/) or the testing entry.',
      severity: 'error',
      from: { path: SRC, pathNot: [`${SRC}testing(-support)?/`, '\\.spec\\.ts$'] },
      to: { path: `${SRC}testing(-support)?/` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
  },
};
