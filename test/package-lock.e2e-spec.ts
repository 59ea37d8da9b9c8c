import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';

// A fresh clone's `npm install` must leave package-lock.json as committed. npm rewrites a lockfile
// that lacks the entries of optional dependencies for other platforms (e.g. @swc/core's binaries for
// macOS or arm64), so the committed one must hold every platform's entries, whatever machine made it.
interface LockEntry {
  version?: string;
  optionalDependencies?: Record<string, string>;
  dependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};

/** Where npm would find `name` from the package at `path`: its own node_modules, then each parent's. */
function resolves(path: string, name: string): boolean {
  let dir = path;
  for (;;) {
    if (lock.packages[`${dir ? `${dir}/` : ''}node_modules/${name}`] !== undefined) return true;
    if (dir === '') return false;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
}

describe('package-lock.json', () => {
  it('is a v3 lockfile', () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  it('holds an entry for every optional dependency, every platform included', () => {
    const missing = Object.entries(lock.packages).flatMap(([path, entry]) =>
      Object.keys(entry.optionalDependencies ?? {})
        .filter((name) => !resolves(path, name))
        .map((name) => `${path || '(root)'} → ${name}`),
    );
    expect(missing).toEqual([]);
  });
});
