#!/usr/bin/env node
/**
 * `npm run mutation:summary`: reads the StrykerJS JSON reports of the parts that were run
 * (`reports/mutation/<part>.json`, git-ignored) and writes their summary, committed, to
 * `docs/mutation-scores.md`: per part and per file, the mutants and the score, and the surviving
 * mutants (file, line, mutator, replacement) so that a reviewer can judge them without the report.
 * A part without a report keeps the section it had.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';

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

function section(part, path) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const when = statSync(path).mtime.toISOString().slice(0, 16).replace('T', ' ');
  const files = Object.entries(report.files).map(([file, { mutants }]) => [file.replace(ROOT, ''), mutants]);
  const all = tally(files.flatMap(([, mutants]) => mutants));
  const lines = [
    `## ${part}`,
    '',
    `Run ${when} UTC: **${pct(all.score)}** (${all.valid} mutants: ${all.killed} killed, ${all.timeout} timed out, ` +
      `${all.survived} survived, ${all.noCoverage} not covered)${all.score >= TARGET ? '' : `, under the ${TARGET} % target`}.`,
    '',
    '| file | mutants | killed | timed out | survived | not covered | score |',
    '| ---- | ------: | -----: | --------: | -------: | ----------: | ----: |',
  ];
  for (const [file, mutants] of files.sort(([a], [b]) => a.localeCompare(b))) {
    const t = tally(mutants);
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
  const path = `reports/mutation/${part}.json`;
  if (existsSync(path)) return section(part, path);
  return previous[part] ?? `## ${part}\n\nNot run yet.`;
});
const header = [
  '# Mutation scores',
  '',
  'Written by `npm run mutation:summary` from the reports of `npm run test:mutation:<part>` (see',
  '[development](development.md#mutation-testing)); the target is ' + `${TARGET} % on each part.`,
  'Score: killed and timed-out mutants over all valid ones (survived and not covered included).',
].join('\n');
writeFileSync(OUT, `${header}\n\n${sections.join('\n\n')}\n`);
console.log(`written: ${OUT}`);
