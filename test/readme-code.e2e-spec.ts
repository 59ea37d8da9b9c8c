import { describe, expect, it } from '@jest/globals';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Every ```ts block of the user-facing docs compiles under `strict` against the library's public
// API, as a user would paste it: each block is its own module, importing from 'nest-token-manager'
// (and its /redis, /health, /metrics, /testing subpaths), with nothing declared for it.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docs = [
  'README.md',
  'libs/token/README.md',
  ...listMarkdown('docs').map((file) => relative(root, file)),
];

interface Block {
  name: string;
  file: string;
  line: number;
  code: string;
}

function listMarkdown(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(join(root, dir), { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries.filter((entry) => entry.endsWith('.md')).map((entry) => join(root, dir, entry));
}

/** The ```ts / ```typescript blocks of a markdown file, with the line each starts on. */
export function extractTsBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    const body: string[] = [];
    for (i = start; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ name: `${file}:${start}`, file, line: start, code: body.join('\n') });
  }
  return blocks;
}

const blocks = docs.flatMap((file) => extractTsBlocks(file, readFileSync(join(root, file), 'utf8')));

/** Compiles every block in one program; diagnostics by block name. */
function compileBlocks(): Map<string, string[]> {
  // Inside node_modules so that the blocks resolve @nestjs/*, rxjs… as the repo's own code does.
  // One folder per process: node_modules may be shared by several checkouts running this test at once.
  const dir = join(root, 'node_modules', '.cache', `readme-blocks-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const fileOf = new Map<string, Block>();
  blocks.forEach((block, i) => {
    const path = join(dir, `block-${i}.ts`);
    writeFileSync(path, block.code + '\n');
    fileOf.set(path, block);
  });
  const lib = join(root, 'libs/token/src');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    moduleDetection: ts.ModuleDetectionKind.Force,
    paths: {
      'nest-token-manager': [join(lib, 'index.ts')],
      'nest-token-manager/redis': [join(lib, 'redis.ts')],
      'nest-token-manager/health': [join(lib, 'health/index.ts')],
      'nest-token-manager/metrics': [join(lib, 'metrics/index.ts')],
      'nest-token-manager/testing': [join(lib, 'testing/index.ts')],
    },
  };
  const program = ts.createProgram([...fileOf.keys()], options);
  const byBlock = new Map<string, string[]>(blocks.map((block) => [block.name, []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const block = diagnostic.file ? fileOf.get(diagnostic.file.fileName) : undefined;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (block === undefined) {
      // An error outside the blocks (the library itself) is reported against every block.
      for (const list of byBlock.values()) list.push(`(outside the block) ${message}`);
      continue;
    }
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    byBlock.get(block.name)!.push(`${block.file}:${block.line + line}: TS${diagnostic.code} ${message}`);
  }
  rmSync(dir, { recursive: true, force: true });
  return byBlock;
}

describe('TypeScript blocks of the docs', () => {
  const diagnostics = compileBlocks();

  it('finds the blocks (the README has a quick start at least, the guide in docs/ the rest)', () => {
    expect(blocks.filter((block) => block.file === 'README.md').length).toBeGreaterThanOrEqual(2);
    expect(blocks.filter((block) => block.file.startsWith('docs')).length).toBeGreaterThan(25);
  });

  it.each(blocks.map((block) => [block.name]))('%s compiles under strict', (name) => {
    expect(diagnostics.get(name)).toEqual([]);
  });
});
