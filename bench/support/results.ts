/** One line of the results table. */
export interface ResultRow {
  scenario: string;
  /** What was measured: `nest-token-manager`, `azure token cycler`, `bare Map lookup`… */
  subject: string;
  figure: string;
  value: number | string | null;
  unit?: string;
  /** The SPEC figure, as text (`≥ 0.9`); absent for figures given for comparison only. */
  target?: string;
  /** Whether `value` meets `target`; null when there is no target or the row was skipped. */
  met?: boolean | null;
  note?: string;
}

/** What a scenario hands back to the orchestrator. */
export interface ScenarioResult {
  scenario: string;
  rows: ResultRow[];
  /** Raw per-round numbers and settings, kept in the JSON for whoever wants to look closer. */
  detail?: Record<string, unknown>;
}

/** A row saying the scenario did not run and why. */
export function skippedRow(scenario: string, reason: string): ResultRow {
  return { scenario, subject: '-', figure: 'skipped', value: null, met: null, note: `skipped: ${reason}` };
}

export function formatValue(row: ResultRow): string {
  const { value, unit } = row;
  if (value === null) return '-';
  if (typeof value === 'string') return value;
  const digits =
    unit === '%' ? 2 : Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  const text = Number.isInteger(value)
    ? value.toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit === undefined ? text : `${text} ${unit}`;
}

function metText(row: ResultRow): string {
  if (row.met === true) return 'yes';
  if (row.met === false) return 'NO';
  return '';
}

const COLUMNS = ['scenario', 'subject', 'figure', 'value', 'target', 'met', 'note'] as const;

function cells(row: ResultRow): string[] {
  return [
    row.scenario,
    row.subject,
    row.figure,
    formatValue(row),
    row.target ?? '',
    metText(row),
    row.note ?? '',
  ];
}

/** A fixed-width table for the terminal. */
export function textTable(rows: readonly ResultRow[]): string {
  const table = [COLUMNS.map(String), ...rows.map(cells)];
  const widths = COLUMNS.map((_, column) => Math.max(...table.map((line) => line[column].length)));
  const line = (values: string[]) =>
    values
      .map((value, column) => value.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [
    line(table[0]),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.slice(1).map(line),
  ].join('\n');
}

/** The same table in GitHub markdown, for `bench-results/*.md` (docs/benchmarks.md quotes its figures). */
export function markdownTable(rows: readonly ResultRow[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  const header = `| ${COLUMNS.join(' | ')} |`;
  const rule = `| ${COLUMNS.map(() => '---').join(' | ')} |`;
  return [header, rule, ...rows.map((row) => `| ${cells(row).map(escape).join(' | ')} |`)].join('\n');
}

/**
 * Where a run writes its results. The committed `latest.*` files change only when asked
 * (`--update`); any other run writes `run-<time>.*` beside them (git-ignored), so running the
 * benchmarks never leaves the working tree dirty.
 */
export function resultFileNames(argv: readonly string[], startedAt: Date): { json: string; md: string } {
  const base = argv.includes('--update')
    ? 'latest'
    : `run-${startedAt
        .toISOString()
        .replace(/[:.]/g, '-')
        .replace(/-\d{3}Z$/, 'Z')}`;
  return { json: `${base}.json`, md: `${base}.md` };
}
