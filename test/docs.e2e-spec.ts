import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
// The script `npm pack` runs (prepack) to write the package's README.
import { packageReadme } from '../libs/token/scripts/package-readme.mjs';

// The documentation's shape: a README that fits on a page, a guide in docs/ whose every page the
// index links, links that lead somewhere, a package README that is the repository's, and one Node
// floor. (test/readme-code.e2e-spec.ts compiles every ```ts block of the README and of docs/.)
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const pages = readdirSync(join(root, 'docs'))
  .filter((file) => file.endsWith('.md'))
  .map((file) => `docs/${file}`);
const markdown = ['README.md', 'CHANGELOG.md', 'bench/README.md', ...pages];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a markdown file's headings (up to `depth`, outside code blocks; repeats get -1, -2…). */
function anchorsOf(text: string, depth = 6): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const heading = !fenced && new RegExp(`^#{1,${depth}} (.+)$`).exec(line);
    if (!heading) continue;
    const base = anchorOf(heading[1]!);
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

/** Relative link targets of a markdown file, outside code blocks. */
function relativeLinks(text: string): string[] {
  const links: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    if (fenced) continue;
    for (const [, target] of line.matchAll(/\]\((?!https?:|mailto:)([^)\s]+)\)/g)) links.push(target!);
  }
  return links;
}

describe('the README', () => {
  it('fits on a page: at most 400 lines', () => {
    expect(read('README.md').trimEnd().split('\n').length).toBeLessThanOrEqual(400);
  });

  it('links the guide', () => {
    expect(read('README.md')).toContain('](docs/index.md)');
  });
});

describe('the guide (docs/)', () => {
  const index = read('docs/index.md');
  const linked = new Set(relativeLinks(index).map((target) => posix.join('docs', target.split('#')[0]!)));

  it('has the topic pages', () => {
    for (const topic of [
      'configuration',
      'strategies',
      'http',
      'fleet',
      'protocols',
      'operations',
      'security',
      'benchmarks',
      'troubleshooting',
      'production-checklist',
      'how-it-works',
      'development',
    ])
      expect(pages).toContain(`docs/${topic}.md`);
  });

  it.each(pages.filter((page) => page !== 'docs/index.md'))('%s is linked from docs/index.md', (page) => {
    expect(linked.has(page)).toBe(true);
  });

  it('keeps each page under one # title, its sections under ## headings', () => {
    for (const page of pages) {
      const titles = [...anchorsOf(read(page), 1)];
      expect({ page, titles: titles.length }).toEqual({ page, titles: 1 });
      expect(read(page).startsWith('# ')).toBe(true);
    }
  });
});

describe('links', () => {
  it.each(markdown)('every relative link of %s leads to a file, and its #anchor to a heading', (file) => {
    const broken: string[] = [];
    for (const target of relativeLinks(read(file))) {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path === '' ? file : posix.join(posix.dirname(file), path);
      if (!existsSync(join(root, resolved))) {
        broken.push(`${target} (no ${resolved})`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(read(resolved)).has(anchor))
        broken.push(`${target} (no heading #${anchor} in ${resolved})`);
    }
    expect(broken).toEqual([]);
  });
});

describe('the package README', () => {
  const pkg = JSON.parse(read('libs/token/package.json')) as {
    repository: { url: string };
    scripts: Record<string, string>;
  };

  it('is the repository README, its links made absolute (libs/token/README.md, written on npm pack)', () => {
    expect(read('libs/token/README.md')).toBe(packageReadme(read('README.md'), pkg.repository.url));
    expect(pkg.scripts['prepack']).toContain('scripts/package-readme.mjs');
  });

  it('has no relative link left (npm shows it away from the repository)', () => {
    expect(relativeLinks(read('libs/token/README.md')).filter((target) => !target.startsWith('#'))).toEqual(
      [],
    );
  });

  it('points images at their raw file and pages at the repository', () => {
    const packed = packageReadme(
      '![t](docs/a.svg) [g](docs/index.md) [x](#y) `[c](d)`\n```\n[e](f)\n```',
      pkg.repository.url,
    );
    expect(packed).toBe(
      '![t](https://raw.githubusercontent.com/nest-token-manager/nest-token-manager/HEAD/docs/a.svg) ' +
        '[g](https://github.com/nest-token-manager/nest-token-manager/blob/HEAD/docs/index.md) [x](#y) ' +
        '`[c](https://github.com/nest-token-manager/nest-token-manager/blob/HEAD/d)`\n```\n[e](f)\n```',
    );
  });
});

describe('Node engines', () => {
  const engines = (path: string) => (JSON.parse(read(path)) as { engines: { node: string } }).engines.node;

  it('are the same in the root and the library package.json, and the README says the same floor', () => {
    expect(engines('package.json')).toBe(engines('libs/token/package.json'));
    const floor = /^>=(\d+\.\d+)$/.exec(engines('libs/token/package.json'))![1]!;
    const install = read('README.md').split('## Quick start')[0]!;
    expect(install).toMatch(new RegExp(`Node\\.js\\s*\\|\\s*${floor.replace('.', '\\.')} or later`));
  });

  it('are at least what the Nest 12 runtime peers installed here declare', () => {
    // @nestjs/axios, @nestjs/schedule, @nestjs/terminus, @nestjs/event-emitter 12 need ^20.19.
    const [major, minor] = /(\d+)\.(\d+)/.exec(engines('libs/token/package.json'))!.slice(1).map(Number);
    for (const peer of ['@nestjs/axios', '@nestjs/schedule', '@nestjs/terminus', '@nestjs/event-emitter']) {
      const declared = engines(`node_modules/${peer}/package.json`);
      const floor20 = /\^?(?:>=\s*)?20\.(\d+)/.exec(declared);
      expect({
        peer,
        ok: floor20 === null || (major! === 20 && minor! >= Number(floor20[1])) || major! > 20,
      }).toEqual({
        peer,
        ok: true,
      });
    }
  });
});
