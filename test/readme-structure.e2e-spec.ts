import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A README a newcomer reads top to bottom: what it is, install, a quick start with the main feature
// on the first screen, configuration, then links into the guide (docs/); nothing it cites missing
// from the repository.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const lines = readme.split('\n');
const headings = lines.filter((line) => line.startsWith('## ')).map((line) => line.slice(3).trim());

describe('README', () => {
  it('opens with install, quick start, configuration, in that order', () => {
    const order = ['Install', 'Quick start', 'Configuration'].map((h) => headings.indexOf(h));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order[0]).toBe(0);
  });

  it('shows @UseToken in code on the first screen', () => {
    const firstUse = lines.findIndex((line) => /^@UseToken\(/.test(line.trim())) + 1;
    expect(firstUse).toBeGreaterThan(0);
    expect(firstUse).toBeLessThanOrEqual(60);
  });

  it('says which Node and Nest versions are supported, and that the package is ESM', () => {
    const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('## Quick start'));
    expect(install).toMatch(/Node\.js\s*\|\s*20\.19/);
    expect(install).toMatch(/`@nestjs\/common`, `@nestjs\/core`\s*\|\s*11, 12/);
    expect(install).toContain('ESM');
    expect(install).toContain('npm install nest-token-manager');
  });

  it('leads to a guide page for each part that used to be a README section', () => {
    // How it works (with refresh, failures and recovery), fleet mode, security, benchmarks: each is a
    // page of docs/ now, linked from the README.
    for (const [page, heading] of [
      ['docs/how-it-works.md', '# How it works'],
      ['docs/how-it-works.md', '## When the token endpoint fails'],
      ['docs/fleet.md', '# Fleet mode (Redis)'],
      ['docs/security.md', '# Security and threat model'],
      ['docs/benchmarks.md', '# Benchmarks'],
    ] as const) {
      expect(readFileSync(join(root, page), 'utf8').split('\n')).toContain(heading);
      expect(readme).toContain(`](${page})`);
    }
  });

  it('cites no document that is not in the repository', () => {
    for (const page of ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))])
      expect(readFileSync(join(root, page === 'README.md' ? page : `docs/${page}`), 'utf8')).not.toMatch(
        /SPEC|(?<!RFC \d{4,5} )§\s*7/,
      );
    for (const [, target] of readme.matchAll(/\]\((?!https?:|#)([^)\s]+)\)/g))
      expect(existsSync(join(root, target!.split('#')[0]!))).toBe(true);
  });

  it('holds the benchmark tables once: in docs/benchmarks.md, not copied into the READMEs', () => {
    const row = '| cache hit, p50 / p99 latency';
    const benchmarks = readFileSync(join(root, 'docs/benchmarks.md'), 'utf8');
    expect(benchmarks.split(row).length - 1).toBe(1);
    expect(readme).not.toContain(row);
    expect(readFileSync(join(root, 'bench/README.md'), 'utf8')).not.toContain(row);
  });

  it('shows the timeline drawn from a demo run', () => {
    expect(readme).toContain('](docs/demo-timeline.svg)');
  });
});
