import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A README a newcomer reads top to bottom: what it is, install, a quick start with the main feature
// on the first screen, configuration, then the rest; nothing it cites missing from the repository.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const lines = readme.split('\n');
const headings = lines.filter((line) => line.startsWith('## ')).map((line) => line.slice(3).trim());
const lineOf = (needle: string) => lines.findIndex((line) => line.includes(needle)) + 1;

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

  it('leaves a section for each part the other docs fill in', () => {
    for (const section of [
      'How it works',
      'Refresh, failures and recovery',
      'Fleet mode (Redis)',
      'Security and threat model',
      'Benchmarks',
    ])
      expect(headings).toContain(section);
  });

  it('cites no document that is not in the repository', () => {
    expect(readme).not.toMatch(/SPEC|(?<!RFC \d{4,5} )§\s*7/);
    for (const [, target] of readme.matchAll(/\]\((?!https?:|#)([^)\s]+)\)/g))
      expect(existsSync(join(root, target!.split('#')[0]!))).toBe(true);
  });

  it('holds the benchmark tables once: not copied into bench/README.md', () => {
    const row = '| cache hit, p50 / p99 latency';
    expect(readme.split(row).length - 1).toBe(1);
    expect(readFileSync(join(root, 'bench/README.md'), 'utf8')).not.toContain(row);
    expect(lineOf(row)).toBeGreaterThan(lineOf('## Benchmarks'));
  });

  it('shows the timeline drawn from a demo run', () => {
    expect(readme).toContain('](docs/demo-timeline.svg)');
  });
});
