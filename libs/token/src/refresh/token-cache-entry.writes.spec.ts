import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The cell's own files: the only ones that may write its fields. */
const CELL_FILES = new Set(['refresh/token-cache-entry.ts', 'refresh/token-cache-entry.incidents.ts']);
/** Fields of the cell that are not refresh state, and the one file that keeps each. */
const KEPT_ELSEWHERE: Record<string, string> = {
  hits: 'module/token.service.ts', // the cache hit counts itself: the hot path stays a lookup and a comparison
  scheduleSlot: 'refresh/token-refresh.schedule.ts',
  dueAt: 'refresh/token-refresh.schedule.ts',
  variants: 'refresh/token-variants.ts',
};
const CELL_CLASSES = new Set(['TokenCacheEntry', 'TokenCacheEntryIncidents']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const path = join(dir, item.name);
    if (item.isDirectory()) return sourceFiles(path);
    return item.name.endsWith('.ts') ? [path] : [];
  });
}

const ASSIGNMENTS = new Set([
  ts.SyntaxKind.EqualsToken,
  ts.SyntaxKind.PlusEqualsToken,
  ts.SyntaxKind.MinusEqualsToken,
  ts.SyntaxKind.AsteriskEqualsToken,
  ts.SyntaxKind.SlashEqualsToken,
  ts.SyntaxKind.BarEqualsToken,
  ts.SyntaxKind.AmpersandEqualsToken,
  ts.SyntaxKind.QuestionQuestionEqualsToken,
  ts.SyntaxKind.BarBarEqualsToken,
  ts.SyntaxKind.AmpersandAmpersandEqualsToken,
]);

/** The property accesses a file writes (assignment, compound assignment, ++/--, delete). */
function writtenAccesses(file: ts.SourceFile): ts.Expression[] {
  const written: ts.Expression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isBinaryExpression(node) && ASSIGNMENTS.has(node.operatorToken.kind)) written.push(node.left);
    if (
      (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
      (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
    ) {
      written.push(node.operand);
    }
    if (ts.isDeleteExpression(node)) written.push(node.expression);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return written.filter(
    (expression) => ts.isPropertyAccessExpression(expression) || ts.isElementAccessExpression(expression),
  );
}

/** `Class.field` when the access resolves to a field declared by one of the cell's classes. */
function cellFieldOf(checker: ts.TypeChecker, access: ts.Expression): string | undefined {
  const target = ts.isPropertyAccessExpression(access)
    ? access.name
    : (access as ts.ElementAccessExpression).argumentExpression;
  const symbol = checker.getSymbolAtLocation(target);
  for (const declaration of symbol?.declarations ?? []) {
    const owner = declaration.parent;
    if (ts.isClassDeclaration(owner) && owner.name !== undefined && CELL_CLASSES.has(owner.name.text)) {
      return symbol!.name;
    }
  }
  return undefined;
}

/**
 * The token cell is the one state machine of a provider's token: every write to its refresh fields
 * happens in its file, through its named transitions. This fails when any other file under
 * `libs/token/src` (specs included) assigns one of them.
 */
describe('token cell: its fields are written in its own file only', () => {
  it('no other file under libs/token/src assigns a field of TokenCacheEntry or its incidents record', () => {
    const files = sourceFiles(SRC);
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      experimentalDecorators: true,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: [],
    });
    const checker = program.getTypeChecker();
    const offences: string[] = [];
    for (const path of files) {
      const name = relative(SRC, path).split('\\').join('/');
      if (CELL_FILES.has(name)) continue;
      const file = program.getSourceFile(path)!;
      for (const access of writtenAccesses(file)) {
        const field = cellFieldOf(checker, access);
        if (field === undefined || KEPT_ELSEWHERE[field] === name) continue;
        const { line } = file.getLineAndCharacterOfPosition(access.getStart());
        offences.push(`${name}:${line + 1} writes ${field}`);
      }
    }
    expect(offences).toEqual([]);
  });
});
