/**
 * `npm run bench [-- --quick] [-- --only herd,memory] [-- --update]`: runs every scenario, each in its
 * own process, prints one table and writes `bench-results/run-<time>.json` and `.md` (git-ignored);
 * `--update` writes the committed `bench-results/latest.json` and `latest.md` instead.
 * Every speed figure is a ratio to a baseline measured in the same run, so numbers from a busy
 * machine are still comparable; absolute figures are given in the notes for reference only.
 */
import { fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseBenchOptions } from './support/options.js';
import {
  markdownTable,
  resultFileNames,
  skippedRow,
  textTable,
  type ResultRow,
  type ScenarioResult,
} from './support/results.js';

const SCENARIOS = [
  'hot-path.bench.js',
  'herd.bench.js',
  'lifetime.bench.js',
  'outage.bench.js',
  'outage-recovery.bench.js',
  'fleet.bench.js',
  'fleet-topology.bench.js',
  'interceptor.bench.js',
  'memory.bench.js',
  'scale.bench.js',
  'scrape.bench.js',
  'variants.bench.js',
] as const;

/** A scenario that runs longer than this is stopped and reported as failed (full run; quick gets less). */
const SCENARIO_TIMEOUT_MS = { full: 180_000, quick: 30_000 };

const argv = process.argv.slice(2);
const options = parseBenchOptions(argv);
const onlyArg = argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const selected = onlyArg
  ? SCENARIOS.filter((file) => onlyArg.split(',').some((name) => file.startsWith(name)))
  : SCENARIOS;

function runScenario(file: string): Promise<ScenarioResult> {
  const name = file.replace('.bench.js', '');
  const timeoutMs = options.quick ? SCENARIO_TIMEOUT_MS.quick : SCENARIO_TIMEOUT_MS.full;
  return new Promise((resolve) => {
    let result: ScenarioResult | undefined;
    let stderr = '';
    const child = fork(
      fileURLToPath(new URL('./support/scenario-child.js', import.meta.url)),
      [file, ...argv],
      {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('message', (message) => (result = message as ScenarioResult));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (result !== undefined) return resolve(result);
      const why =
        signal === 'SIGKILL' ? `timed out after ${timeoutMs / 1000} s` : `exited with ${code ?? signal}`;
      const lastError = stderr.trim().split('\n').slice(-3).join(' / ');
      resolve({
        scenario: name,
        rows: [{ ...skippedRow(name, why), figure: 'failed', note: `failed: ${why}; ${lastError}` }],
      });
    });
  });
}

const startedAt = new Date();
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
};
console.log(
  `nest-token-manager benchmarks${options.quick ? ' (quick)' : ''}: ${machine.cpus} × ${machine.cpuModel}, ` +
    `Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')}`,
);

const results: ScenarioResult[] = [];
for (const file of selected) {
  const began = Date.now();
  process.stdout.write(`  ${file.replace('.bench.js', '')}… `);
  const result = await runScenario(file);
  results.push(result);
  console.log(`${((Date.now() - began) / 1000).toFixed(1)} s`);
}
const rows: ResultRow[] = results.flatMap((result) => result.rows);
const loadAverageAtEnd = loadavg().map((value) => Math.round(value * 100) / 100);

console.log();
console.log(textTable(rows));
console.log();
console.log(
  `load average at end: ${loadAverageAtEnd.join(' ')} (above ${machine.cpus} the machine was busy; ratios hold better than absolute figures)`,
);

const resultsDir = new URL('../../bench-results/', import.meta.url);
await mkdir(resultsDir, { recursive: true });
const report = {
  date: startedAt.toISOString(),
  quick: options.quick,
  machine: { ...machine, loadAverageAtEnd },
  rows,
  scenarios: results,
};
const files = resultFileNames(argv, startedAt);
await writeFile(new URL(files.json, resultsDir), JSON.stringify(report, null, 2) + '\n');
await writeFile(
  new URL(files.md, resultsDir),
  `Run ${startedAt.toISOString()}${options.quick ? ' (--quick)' : ''} on ${machine.cpus} × ${machine.cpuModel}, ` +
    `Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')} → ${loadAverageAtEnd.join(' ')}.\n\n` +
    markdownTable(rows) +
    '\n',
);
console.log(`written: bench-results/${files.json}, bench-results/${files.md}`);
const missed = rows.filter((row) => row.met === false);
if (missed.length > 0)
  console.log(`targets not met: ${missed.map((row) => `${row.scenario} / ${row.figure}`).join('; ')}`);
