import { afterAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// How the package is built: one script (`npm run pack:lib`) packs the library and prints the
// tarball's path; CI installs that tarball; `npm pack` at the root (the workspace) refuses.
const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const work = mkdtempSync(join(tmpdir(), 'ntm-pack-lib-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('packing the library', () => {
  it('npm pack at the repository root refuses and points to npm run pack:lib, packing nothing', () => {
    const destination = join(work, 'root');
    const result = spawnSync('npm', ['pack', '--pack-destination', destination], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      'npm pack at the repository root would pack the workspace, not the library: run npm run pack:lib',
    );
    expect(existsSync(destination) ? readdirSync(destination) : []).toEqual([]);
  });

  it('CI installs the tarball of the documented script', () => {
    const consumers = readFileSync(join(root, 'test/consumers/run-consumers.sh'), 'utf8');
    expect(consumers).toMatch(
      /tarball="\$\(cd "\$root" && npm run --silent pack:lib -- "\$work" \| tail -n 1\)"/,
    );
    expect(consumers).not.toMatch(/npm pack/);
  });

  it('npm run pack:lib packs libs/token and prints the tarball path last', () => {
    const destination = join(work, 'lib');
    const result = spawnSync('npm', ['run', '--silent', 'pack:lib', '--', destination], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const tarball = result.stdout.trim().split('\n').at(-1)!;
    const { name, version } = JSON.parse(readFileSync(join(root, 'libs/token/package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(isAbsolute(tarball)).toBe(true);
    expect(basename(tarball)).toBe(`${name}-${version}.tgz`);
    expect(readdirSync(destination)).toEqual([basename(tarball)]);
  }, 180_000);
});
