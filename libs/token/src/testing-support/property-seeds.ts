import { writeSync } from 'node:fs';

/** The seed every property test runs with in every run, so that CI is reproducible. */
export const FIXED_SEED = 20_261_207;

/**
 * The seeds a property test runs with: the fixed one, and a fresh one per run (or `PROPERTY_SEED`
 * to replay a failure). The fresh seed is written straight to stderr, past the suite's output
 * capture, so that a failing run can be replayed.
 */
export function propertySeeds(suite: string): { label: string; seed: number }[] {
  const fromEnv = Number(process.env.PROPERTY_SEED);
  const fresh =
    Number.isSafeInteger(fromEnv) && process.env.PROPERTY_SEED !== undefined
      ? fromEnv
      : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  writeSync(
    2,
    `[property seed] ${suite}: fixed ${FIXED_SEED}, random ${fresh} (replay: PROPERTY_SEED=${fresh})\n`,
  );
  return [
    { label: `fixed seed ${FIXED_SEED}`, seed: FIXED_SEED },
    { label: `random seed ${fresh}`, seed: fresh },
  ];
}
