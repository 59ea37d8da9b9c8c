/**
 * No import cycle between the folders of libs/token/src (`npm run lint:deps`), type-only imports
 * included. Two rules make it hold, the files directly in src/ counting as one folder:
 * - no cycle between the folders under src/ (dependency-cruiser's folder scope);
 * - the files directly in src/ are the package's entries: code in a folder never imports one, so
 *   src/ can be in no cycle (dependency-cruiser's folder scope counts src/ as the parent of every
 *   folder, so it cannot check that one itself).
 * Spec files are left out: a folder's specs may use the testing fakes, which depend on the core.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const base = require('./.dependency-cruiser.cjs');

const SRC = '^libs/token/src/';

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'No import cycle between the folders under src/.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'src-root-is-entries',
      comment: 'Code in a folder never imports a file directly in src/ (the entries): src/ is in no cycle.',
      severity: 'error',
      from: { path: `${SRC}[^/]+/` },
      to: { path: `${SRC}[^/]+\\.ts$` },
    },
  ],
  options: {
    ...base.options,
    exclude: { path: '\\.spec\\.ts$' },
  },
};
