import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { importOptional, type OptionalDependency } from './optional-dependency.js';

/**
 * Which load failures `importOptional` reads as "the package is not installed": a not-found code
 * (Node's ESM loader: ERR_MODULE_NOT_FOUND; require() and Jest: MODULE_NOT_FOUND) whose message names
 * the package itself in quotes. The errors come from real loaders: Node's own, run in a child process,
 * and Jest's, which resolves the `import()` of these specs. Only the odd shapes (no object, another
 * code, a message that is no string) are built by hand.
 */
const OUTER = 'ntm-optdep-outer-3a7c';
const INNER = 'ntm-optdep-inner-missing-3a7c';
const dependency = (packageName: string): OptionalDependency => ({
  packageName,
  neededBy: "store: 'example'",
  field: 'example',
});

let dir: string;
let outerEntry: string;

beforeAll(async () => {
  // An installed package that imports one that is not: loading it fails on the inner package.
  dir = await mkdtemp(join(tmpdir(), 'ntm-optdep-'));
  const outer = join(dir, 'node_modules', OUTER);
  await mkdir(outer, { recursive: true });
  await writeFile(
    join(outer, 'package.json'),
    JSON.stringify({ name: OUTER, version: '1.0.0', type: 'module', main: 'index.js' }),
  );
  outerEntry = join(outer, 'index.js');
  await writeFile(outerEntry, `import '${INNER}';\nexport const loaded = true;\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error Node's own ESM loader (not Jest's) rejects `import(specifier)` with, run from `cwd`. */
async function nodeImportError(specifier: string, cwd: string): Promise<Error> {
  const script =
    `import(${JSON.stringify(specifier)}).then(() => console.log('{}'), ` +
    `(e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
  });
  const { code, message } = JSON.parse(stdout) as { code?: string; message?: string };
  expect(code).toBe('ERR_MODULE_NOT_FOUND');
  return Object.assign(new Error(message), { code });
}

async function outcome(packageName: string, load: () => Promise<unknown>): Promise<unknown> {
  return importOptional(dependency(packageName), load).then(
    () => 'loaded',
    (error: unknown) => error,
  );
}

function expectNotInstalled(error: unknown, packageName: string): void {
  expect(error).toBeInstanceOf(InvalidTokenOptionsError);
  expect(error).toMatchObject({ field: 'example' });
  expect((error as Error).message).toContain(`store: 'example' needs the package "${packageName}"`);
}

describe('importOptional reads as "not installed"', () => {
  it("Node's ESM loader missing the package (ERR_MODULE_NOT_FOUND)", async () => {
    const missing = await nodeImportError(OUTER + '-absent', dir);
    expect(missing.message).toContain(`'${OUTER}-absent'`);
    expectNotInstalled(await outcome(OUTER + '-absent', () => Promise.reject(missing)), OUTER + '-absent');
  });

  it("Jest's loader missing the package (MODULE_NOT_FOUND)", async () => {
    const error = await importOptional(dependency(INNER)).catch((e: unknown) => e);
    expectNotInstalled(error, INNER);
  });

  it('a scoped package name with a dot, matched literally', async () => {
    const scoped = '@ntm-optdep-3a7c/no.such-pkg';
    expectNotInstalled(await importOptional(dependency(scoped)).catch((e: unknown) => e), scoped);
  });
});

describe('importOptional lets through unchanged', () => {
  it("Node's ESM loader missing a package inside the package (installed, broken)", async () => {
    const nested = await nodeImportError(OUTER, dir);
    expect(nested.message).toContain(`'${INNER}'`);
    expect(nested.message).toContain(`/${OUTER}/`);
    expect(await outcome(OUTER, () => Promise.reject(nested))).toBe(nested);
  });

  it("Jest's loader missing a package inside the package", async () => {
    const nested = await import(pathToFileURL(outerEntry).href).catch((e: unknown) => e);
    expect(nested).toMatchObject({
      code: 'MODULE_NOT_FOUND',
      message: expect.stringContaining(`'${INNER}'`),
    });
    expect(await outcome(OUTER, () => Promise.reject(nested))).toBe(nested);
  });

  it('another error code, even with a message naming the package', async () => {
    for (const code of ['ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_REQUIRE_ESM', undefined]) {
      const other = Object.assign(new Error(`Cannot find package '${OUTER}' imported from x.js`), { code });
      expect(await outcome(OUTER, () => Promise.reject(other))).toBe(other);
    }
  });

  it('a not-found code whose message is no string, even one that reads as the package', async () => {
    const odd = { code: 'MODULE_NOT_FOUND', message: { toString: () => `Cannot find module '${OUTER}'` } };
    expect(await outcome(OUTER, () => Promise.reject(odd))).toBe(odd);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a string naming the package', `Cannot find package '${OUTER}'`],
    ['a number', 42],
  ])('a rejection with %s', async (_case, reason) => {
    expect(await outcome(OUTER, () => Promise.reject(reason))).toBe(reason);
  });
});
