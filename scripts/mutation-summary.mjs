#!/usr/bin/env node
/**
 * `npm run mutation:summary`: reads the StrykerJS JSON reports of the parts that were run
 * (`reports/mutation/<part>.json`, git-ignored) and writes their summary, committed, to
 * `docs/mutation-scores.md`: per part and per file, the mutants and the score, and the surviving
 * mutants (file, line, mutator, replacement) so that a reviewer can judge them without the report.
 * A part without a report keeps the section it had.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

const PARTS = ['refresh', 'strategies', 'http', 'stores', 'config'];
const TARGET = 85;
const OUT = 'docs/mutation-scores.md';
const ROOT = 'libs/token/src/';

/** Stryker's mutation score: detected (killed, timed out) over valid (detected, survived, not covered). */
function tally(mutants) {
  const count = (status) => mutants.filter((mutant) => mutant.status === status).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const valid = killed + timeout + survived + noCoverage;
  return {
    killed,
    timeout,
    survived,
    noCoverage,
    valid,
    score: valid === 0 ? 100 : ((killed + timeout) / valid) * 100,
  };
}

const pct = (score) => `${score.toFixed(1)} %`;

/** The previous summary's section per part, kept for the parts run neither now nor since. */
function previousSections() {
  if (!existsSync(OUT)) return {};
  const sections = {};
  for (const chunk of readFileSync(OUT, 'utf8')
    .split(/^(?=## )/m)
    .slice(1)) {
    const part = /^## (\w+)/.exec(chunk)?.[1];
    if (part !== undefined) sections[part] = chunk.trimEnd();
  }
  return sections;
}

/**
 * A part's reports: `<part>.json`, and `<part>.<chunk>.json` for a part run a few files at a time
 * (`npm run test:mutation:<part> -- --mutate <files>`, the report copied under a chunk name). A file
 * in several reports counts from the newest.
 */
function reportsOf(part) {
  const dir = 'reports/mutation';
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter(
      (name) =>
        name === `${part}.json` ||
        (name.startsWith(`${part}.`) && name.endsWith('.json') && !name.includes('incremental')),
    )
    .map((name) => `${dir}/${name}`)
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}

function section(part, paths) {
  const byFile = new Map();
  for (const path of paths) {
    const report = JSON.parse(readFileSync(path, 'utf8'));
    for (const [file, { mutants }] of Object.entries(report.files))
      byFile.set(file.replace(ROOT, ''), mutants);
  }
  const when = statSync(paths.at(-1)).mtime.toISOString().slice(0, 16).replace('T', ' ');
  const files = [...byFile.entries()];
  const all = tally(files.flatMap(([, mutants]) => mutants));
  const lines = [
    `## ${part}`,
    '',
    `Last run ${when} UTC${paths.length > 1 ? ` (${paths.length} runs of some files each)` : ''}: **${pct(all.score)}** (${all.valid} mutants: ${all.killed} killed, ${all.timeout} timed out, ` +
      `${all.survived} survived, ${all.noCoverage} not covered)${all.score >= TARGET ? '' : `, under the ${TARGET} % target`}.`,
    '',
    '| file | mutants | killed | timed out | survived | not covered | score |',
    '| ---- | ------: | -----: | --------: | -------: | ----------: | ----: |',
  ];
  for (const [file, mutants] of files.sort(([a], [b]) => a.localeCompare(b))) {
    const t = tally(mutants);
    if (t.valid === 0) continue; // declarations only (a schema built at load time): nothing to mutate
    lines.push(
      `| \`${file}\` | ${t.valid} | ${t.killed} | ${t.timeout} | ${t.survived} | ${t.noCoverage} | ${pct(t.score)} |`,
    );
  }
  const left = files.flatMap(([file, mutants]) =>
    mutants
      .filter((mutant) => mutant.status === 'Survived' || mutant.status === 'NoCoverage')
      .map((mutant) => ({ file, ...mutant })),
  );
  if (left.length > 0) {
    lines.push('', '<details><summary>Mutants left alive</summary>', '');
    lines.push('| file:line | mutator | status | replacement |', '| --- | --- | --- | --- |');
    for (const mutant of left) {
      const replacement = (mutant.replacement ?? '').replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 80);
      lines.push(
        `| \`${mutant.file}:${mutant.location.start.line}\` | ${mutant.mutatorName} | ${mutant.status} | \`${replacement}\` |`,
      );
    }
    lines.push('', '</details>');
  }
  return lines.join('\n');
}

const previous = previousSections();
const sections = PARTS.map((part) => {
  const paths = reportsOf(part);
  if (paths.length > 0) return section(part, paths);
  return previous[part] ?? `## ${part}\n\nNot run yet.`;
});
const header = [
  '# Mutation scores',
  '',
  'Written by `npm run mutation:summary` from the reports of `npm run test:mutation:<part>` (see',
  '[development](development.md#mutation-testing)); the target is ' + `${TARGET} % on each part.`,
  'Score: killed and timed-out mutants over all valid ones (survived and not covered included).',
  'A part run a few files at a time (`-- --mutate <files>`) lists only the files run so far.',
].join('\n');
writeFileSync(OUT, `${header}\n\n${sections.join('\n\n')}\n`);
process.stdout.write(`written: ${OUT}\n`);
