/**
 * No import cycle between the folders of libs/token/src (`npm run lint:deps`), type-only imports
 * included. Two rules make it hold, the files directly in src/ counting as one folder:
 * - no cycle between the folders under src/ (dependency-cruiser's folder scope);
 * - the files directly in src/ are the package's entries: code in a folder never imports one, so
 *   src/ can be in no cycle (dependency-cruiser's folder scope counts src/ as the parent of every
 *   folder, so it cannot check that one itself).
 * The bottom layers are checked too: core/ imports no other folder, config/ only core/, http/ only
 * core/ (it asks core's TokenSource, never the service, the strategies or the refresh engine), and
 * refresh/, stores/, metrics/ only core/ and config/.
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
    {
      name: 'core-is-the-bottom',
      comment: 'core/ (clock, TokenInfo, interfaces, errors, events) imports no other folder of src/.',
      severity: 'error',
      from: { path: `${SRC}core/` },
      to: { path: SRC, pathNot: `${SRC}core/` },
    },
    {
      name: 'config-over-core-only',
      comment:
        'config/ (the schemas and their one parse) imports core/ only: config never imports strategies.',
      severity: 'error',
      from: { path: `${SRC}config/` },
      to: { path: SRC, pathNot: `${SRC}(config|core)/` },
    },
    {
      name: 'http-over-core-only',
      comment:
        'http/ imports core/ only: it asks TokenSource, never the service, strategies or refresh internals.',
      severity: 'error',
      from: { path: `${SRC}http/` },
      to: { path: SRC, pathNot: `${SRC}(http|core)/` },
    },
    {
      name: 'engine-over-core-and-config',
      comment: 'refresh/, stores/ and metrics/ import core/ and config/ only (besides their own files).',
      severity: 'error',
      from: { path: `${SRC}(refresh|stores|metrics)/` },
      to: { path: SRC, pathNot: [`${SRC}(core|config)/`, `${SRC}$1/`] },
    },
  ],
  options: {
    ...base.options,
    exclude: { path: '\\.spec\\.ts$' },
  },
};
