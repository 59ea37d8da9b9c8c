import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The public API of every entry of the package, pinned: test/package-exports.json lists the value
// and type names each entry exports, so that adding (or dropping) one is a deliberate change made
// there. Each name is documented at its declaration, no schema is exported, and no name is exported
// by two entries.
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'libs/token/src');
const pinned = JSON.parse(readFileSync(join(root, 'test/package-exports.json'), 'utf8')) as Record<
  string,
  { values: string[]; types: string[] }
>;
const pkg = JSON.parse(readFileSync(join(root, 'libs/token/package.json'), 'utf8')) as {
  exports: Record<string, unknown>;
};

/** The source file of each entry of the package's `exports` map. */
const SOURCES: Record<string, string> = {
  '.': 'index.ts',
  './redis': 'redis.ts',
  './health': 'health/index.ts',
  './metrics': 'metrics/index.ts',
  './testing': 'testing/index.ts',
};
const entries = Object.keys(SOURCES);

interface ExportedName {
  name: string;
  kind: 'value' | 'type';
  documented: boolean;
  declaredIn: string;
}

/** Every name each entry exports, as the TypeScript compiler sees it (type-only exports included). */
function exportsBySource(): Map<string, ExportedName[]> {
  const files = entries.map((entry) => join(src, SOURCES[entry]!));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    experimentalDecorators: true,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const result = new Map<string, ExportedName[]>();
  entries.forEach((entry, i) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(files[i]!)!)!;
    result.set(
      entry,
      checker.getExportsOfModule(module).map((exported) => {
        const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
        return {
          name: exported.name,
          kind: target.flags & ts.SymbolFlags.Value ? 'value' : 'type',
          documented: ts.displayPartsToString(target.getDocumentationComment(checker)).trim().length > 0,
          declaredIn: target.declarations?.[0]?.getSourceFile().fileName.slice(src.length + 1) ?? '?',
        };
      }),
    );
  });
  return result;
}

describe('the exported names of every entry', () => {
  let compiled: Map<string, ExportedName[]>;
  beforeAll(() => {
    compiled = exportsBySource();
  }, 180_000);

  it('pins every entry of the package.json exports map', () => {
    expect(Object.keys(pkg.exports).filter((entry) => entry !== './package.json')).toEqual(entries);
    expect(Object.keys(pinned)).toEqual(entries);
  });

  it.each(entries)('%s: its run-time names are the pinned values', async (entry) => {
    const loaded = (await import(join(src, SOURCES[entry]!))) as Record<string, unknown>;
    expect(Object.keys(loaded).sort()).toEqual([...pinned[entry]!.values].sort());
  });

  it.each(entries)('%s: its names, types included, are the pinned ones', (entry) => {
    const names = compiled.get(entry)!;
    const byKind = (kind: ExportedName['kind']) =>
      names
        .filter((exported) => exported.kind === kind)
        .map((exported) => exported.name)
        .sort();
    expect({ values: byKind('value'), types: byKind('type') }).toEqual({
      values: [...pinned[entry]!.values].sort(),
      types: [...pinned[entry]!.types].sort(),
    });
  });

  it.each(entries)('%s: every name is documented at its declaration', (entry) => {
    const undocumented = compiled
      .get(entry)!
      .filter((exported) => !exported.documented)
      .map((exported) => `${exported.name} (${exported.declaredIn})`);
    expect(undocumented).toEqual([]);
  });

  it('keeps the main entry at 60 names at most', () => {
    expect(compiled.get('.')!.length).toBeLessThanOrEqual(60);
  });

  it('exports no name from two entries (a subpath never repeats the main entry)', () => {
    const seen = new Map<string, string>();
    const repeated: string[] = [];
    for (const entry of entries)
      for (const { name } of compiled.get(entry)!) {
        if (seen.has(name)) repeated.push(`${name}: ${seen.get(name)} and ${entry}`);
        else seen.set(name, entry);
      }
    expect(repeated).toEqual([]);
  });

  it.each(entries)('%s: exports no zod schema (it would tie the public API to zod)', async (entry) => {
    const loaded = (await import(join(src, SOURCES[entry]!))) as Record<string, unknown>;
    const schemas = Object.entries(loaded)
      .filter(([, value]) => typeof value === 'object' && value !== null && '_zod' in value)
      .map(([name]) => name);
    expect(schemas).toEqual([]);
  });
});
