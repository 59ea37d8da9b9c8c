/** Command-line settings every scenario receives. */
export interface BenchOptions {
  /** `--quick`: fewer rounds and shorter runs, for CI smoke tests (the whole run stays under a minute). */
  quick: boolean;
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  return { quick: argv.includes('--quick') };
}

/** Picks the full or the quick figure. */
export function pick<T>(options: BenchOptions, full: T, quick: T): T {
  return options.quick ? quick : full;
}
