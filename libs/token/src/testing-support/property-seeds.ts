import { writeSync } from 'node:fs';

/** The seed every property test runs with in every run, so that CI is reproducible. */
export const FIXED_SEED = 20_261_207;

/**
 * Inside a mutation run (StrykerJS sets `STRYKER_MUTATOR_WORKER` in its test processes) each mutant
 * repeats the specs that reach it: property tests run the fixed seed only (a mutant's verdict must
 * not depend on a random draw) with a tenth of their cases (see `propertyRuns`).
 */
const MUTATION_RUN = process.env.STRYKER_MUTATOR_WORKER !== undefined;

/** A property's number of cases: `runs` in `npm test`, a tenth of it (at least 10) in a mutation run. */
export function propertyRuns(runs: number): number {
  return MUTATION_RUN ? Math.max(10, Math.ceil(runs / 10)) : runs;
}

/**
 * Every pair of `as` and `bs` in `npm test`; in a mutation run, each of `as` and each of `bs` once
 * at least (`as[i]` with `bs[i % bs.length]`, and the other way round when `bs` is the longer), so
 * that a mutant is still checked against every encoding and every place, not every combination.
 */
export function crossCases<A, B>(as: readonly A[], bs: readonly B[]): [A, B][] {
  if (!MUTATION_RUN) return as.flatMap((a) => bs.map((b): [A, B] => [a, b]));
  const count = Math.max(as.length, bs.length);
  return Array.from({ length: count }, (_, i): [A, B] => [as[i % as.length], bs[i % bs.length]]);
}

/**
 * The seeds a property test runs with: a fixed one, and a fresh one per run (or the value of
 * `PROPERTY_SEED`, or of the suite's own variable, to replay a failure). Both are written straight to
 * stderr, past the suite's output capture, so that every run prints what it ran with.
 */
export function propertySeeds(
  suite: string,
  { fixed = FIXED_SEED, env = 'PROPERTY_SEED' }: { fixed?: number; env?: string } = {},
): { label: string; seed: number }[] {
  const given = process.env[env] ?? process.env.PROPERTY_SEED;
  const fresh =
    given !== undefined && Number.isSafeInteger(Number(given))
      ? Number(given)
      : Math.floor(Math.random() * 2 ** 31);
  if (MUTATION_RUN) return [{ label: `fixed seed ${fixed}`, seed: fixed }];
  writeSync(2, `[property seed] ${suite}: fixed ${fixed}, random ${fresh} (replay: ${env}=${fresh})\n`);
  return [
    { label: `fixed seed ${fixed}`, seed: fixed },
    { label: `random seed ${fresh}`, seed: fresh },
  ];
}
