import { Logger } from '@nestjs/common';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import type {
  TokenRequestParameters,
  TokenStrategy,
} from '../libs/token/src/core/token-strategy.interface.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { heapUsed } from './support/heap.js';

const SCENARIO = 'variants';
/** A KlingAI-style HS256 JWT is about this long. */
const TOKEN_LENGTH = 220;
/** Heap is read at this many checkpoints, evenly spread over the run. */
const CHECKPOINTS = 10;

/** Mints a token per scope or audience without I/O, as a provider with per-call parameters would fetch. */
class ScopedStrategy implements TokenStrategy {
  readonly cacheKey: string;
  constructor(private readonly parameters: TokenRequestParameters = {}) {
    this.cacheKey = `scoped:${JSON.stringify(parameters)}`;
  }
  async generate(): Promise<TokenInfo> {
    const now = Date.now();
    const token = `eyJ${this.cacheKey.length.toString(36)}.`.padEnd(TOKEN_LENGTH, 'x') + String(now % 1000);
    return new TokenInfo({ token, issuedAt: now, expiresAt: now + 3_600_000 });
  }
  withParameters(parameters: TokenRequestParameters): TokenStrategy {
    return new ScopedStrategy(parameters);
  }
}

/**
 * One provider asked for 200,000 distinct per-call variants (a scope or an audience each, as a
 * multi-tenant backend would ask), each fetched once: the variants a provider keeps are capped
 * (`maxVariantsPerProvider`, least recently used dropped), so the heap must stay flat whatever the
 * number of distinct parameters. Heap is read after full collections at evenly spread checkpoints;
 * the figure is the spread between the first checkpoint (the cap reached) and the highest later one.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const variants = pick(options, 200_000, 20_000);
  const step = variants / CHECKPOINTS;
  // The one overflow warning goes nowhere: the bench prints a table, not the library's log.
  Logger.overrideLogger(false);
  const service = new TokenService();
  service.register('scoped', new ScopedStrategy());
  await service.getToken('scoped');

  const checkpoints: number[] = [];
  for (let i = 0; i < variants; i++) {
    const parameters =
      i % 2 === 0 ? { scope: [`tenant-${i}.read`] } : { audience: `https://api-${i}.example` };
    await service.getToken('scoped', parameters);
    if ((i + 1) % step === 0) checkpoints.push(heapUsed());
  }
  const stats = service.getStats();
  const kept = Object.keys(stats.tokens).length;
  await service.onApplicationShutdown();

  const first = checkpoints[0];
  const growth = Math.max(...checkpoints.slice(1)) - first;
  const perVariantBytes = growth / (variants - step);
  const kib = (bytes: number) => bytes / 1024;
  const rows: ResultRow[] = [
    {
      scenario: SCENARIO,
      subject: 'nest-token-manager',
      figure: `heap growth from the ${step.toLocaleString('en-US')}th to the ${variants.toLocaleString('en-US')}th distinct per-call variant`,
      value: kib(growth),
      unit: 'KiB',
      target: '≈ 0, flat (< 1 MiB)',
      met: growth < 1024 * 1024,
      note: `${perVariantBytes.toFixed(2)} B per variant past the cap; ${kept} entries kept (the provider and its capped variants); checkpoints ${checkpoints.map((bytes) => (bytes / 2 ** 20).toFixed(1)).join(' / ')} MiB`,
    },
  ];
  return {
    scenario: SCENARIO,
    rows,
    detail: { variants, checkpoints, growthBytes: growth, keptEntries: kept },
  };
}
