import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageReadme } from '../libs/token/scripts/package-readme.mjs';

// The package as users get it: `npm pack` with no build beforehand, what the tarball holds, types
// that need no optional peer, and peer ranges whose lowest and highest majors are the tested ones.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'libs/token');
const pkg = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  engines: { node: string };
  [field: string]: unknown;
};
const OPTIONAL_PEERS = Object.keys(pkg.peerDependenciesMeta).filter(
  (name) => pkg.peerDependenciesMeta[name]?.optional,
);

describe('the packed package', () => {
  const work = mkdtempSync(join(tmpdir(), 'ntm-pack-'));
  let files: Map<string, string>;

  beforeAll(() => {
    // Without a prior build: `npm pack` alone must produce a working package.
    rmSync(join(lib, 'dist'), { recursive: true, force: true });
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
      cwd: lib,
      encoding: 'utf8',
    });
    const tarball = join(work, out.trim().split('\n').at(-1)!);
    execFileSync('tar', ['xzf', tarball, '-C', work]);
    const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
    files = new Map(listing.map((path) => [path.replace(/^package\//, ''), join(work, path)]));
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it.each([
    'package.json',
    'README.md',
    'LICENSE',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/redis.js',
    'dist/health/index.js',
    'dist/metrics/index.js',
    'dist/testing/index.js',
    'dist/testing/index.d.ts',
  ])('holds %s', (path) => expect(files.has(path)).toBe(true));

  it("holds no source maps, sources, tests or the library's own spec helpers", () => {
    const unwanted = [...files.keys()].filter(
      (path) =>
        path.endsWith('.map') ||
        (path.endsWith('.ts') && !path.endsWith('.d.ts')) ||
        /\.spec\.|\/testing-support\//.test(path),
    );
    expect(unwanted).toEqual([]);
  });

  it('has a README for users of the package: install, peers, ESM, quick start with @UseToken', () => {
    const readme = readFileSync(files.get('README.md')!, 'utf8');
    for (const part of [
      'npm install nest-token-manager',
      'ESM',
      '@UseToken(',
      'TokenModule.forRoot',
      '@nestjs/common',
    ])
      expect(readme).toContain(part);
  });

  it("ships the repository's README, its relative links made absolute (prepack writes it)", () => {
    expect(readFileSync(files.get('README.md')!, 'utf8')).toBe(
      packageReadme(
        readFileSync(join(root, 'README.md'), 'utf8'),
        (pkg['repository'] as { url: string }).url,
      ),
    );
  });

  it("ships the repository's LICENSE", () => {
    expect(readFileSync(files.get('LICENSE')!, 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
  });

  it('has declarations whose main entry needs no optional peer (skipLibCheck: false without them)', () => {
    // Every .d.ts reachable from the main entry through relative imports.
    const seen = new Set<string>();
    const offending: string[] = [];
    const visit = (path: string) => {
      if (seen.has(path) || !files.has(path)) return;
      seen.add(path);
      const text = readFileSync(files.get(path)!, 'utf8');
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        if (spec!.startsWith('.')) visit(posix.join(posix.dirname(path), spec!.replace(/\.js$/, '.d.ts')));
        else if (OPTIONAL_PEERS.some((peer) => spec === peer || spec!.startsWith(`${peer}/`)))
          offending.push(`${path} → ${spec}`);
      }
    };
    visit('dist/index.d.ts');
    expect(seen.size).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });

  it('builds itself on pack and says where it comes from', () => {
    expect(pkg.scripts['prepack']).toMatch(/build/);
    for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'engines', 'license'])
      expect(pkg[field]).toBeDefined();
  });
});

describe('peer dependency ranges', () => {
  const consumer = (name: string) =>
    (
      JSON.parse(readFileSync(join(root, 'test/consumers', name, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      }
    ).dependencies;
  const lowest = consumer('nest11');
  const highest = { ...consumer('nest12-esm'), ...consumer('commonjs') };
  const installed = (name: string) =>
    (
      JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const major = (version: string) => Number(/^\D*(\d+)/.exec(version)![1]);
  const majorsOf = (range: string) => range.split('||').map((part) => major(part.trim()));

  it.each(Object.entries(pkg.peerDependencies))(
    '%s %s: lowest and highest majors are the tested ones',
    (name, range) => {
      const majors = majorsOf(range);
      // Its highest major is what the repo's own tests run on, and what the Nest 12 consumer apps
      // install with the packed package (in CI).
      expect(Math.max(...majors)).toBe(major(installed(name)));
      expect(highest[name]).toBeDefined();
      expect(major(highest[name]!)).toBe(Math.max(...majors));
      // Its lowest major is what the Nest 11 consumer app installs (the packed package, in CI).
      expect(lowest[name]).toBeDefined();
      expect(major(lowest[name]!)).toBe(Math.min(...majors));
      // And it names no major between them that nothing installs (or that does not exist).
      expect(majors.filter((m) => m !== major(lowest[name]!) && m !== major(highest[name]!))).toEqual([]);
    },
  );
});
