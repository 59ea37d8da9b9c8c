import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import type { TokenStrategy } from '../libs/token/src/core/token-strategy.interface.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { heapUsed } from './support/heap.js';

const SCENARIO = 'memory';
const TENANTS = 10_000;
/** A KlingAI-style HS256 JWT is about this long; tokens are the bulk of what a provider holds. */
const TOKEN_LENGTH = 220;

/** One tenant's credentials: mints a token of realistic size without I/O. */
class TenantStrategy implements TokenStrategy {
  readonly cacheKey: string;
  constructor(private readonly tenant: number) {
    this.cacheKey = `tenant:${tenant}`;
  }
  async generate(): Promise<TokenInfo> {
    const now = Date.now();
    const token = `eyJ${this.tenant.toString(36)}.`.padEnd(TOKEN_LENGTH, 'x') + String(now % 1000);
    return new TokenInfo({ token, issuedAt: now, expiresAt: now + 3_600_000 });
  }
}

const keepAlive: unknown[] = [];

/**
 * Heap held by 10,000 providers with a cached token each (one per tenant), next to a bare `Map` of
 * 10,000 resolved token promises; then heap growth across 1,000,000 cached calls, which should be nil.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const calls = pick(options, 1_000_000, 1_000_000);

  const beforeBare = heapUsed();
  const bare = new Map<string, Promise<TokenInfo>>();
  for (let tenant = 0; tenant < TENANTS; tenant++)
    bare.set(`tenant:${tenant}`, Promise.resolve(await new TenantStrategy(tenant).generate()));
  const bareBytes = heapUsed() - beforeBare;
  keepAlive.push(bare); // a local that is never read again may be collected before it is measured

  const before = heapUsed();
  const service = new TokenService();
  for (let tenant = 0; tenant < TENANTS; tenant++)
    service.register(`tenant:${tenant}`, new TenantStrategy(tenant));
  for (let tenant = 0; tenant < TENANTS; tenant++) await service.getToken(`tenant:${tenant}`);
  const serviceBytes = heapUsed() - before;
  keepAlive.push(service);

  const names = Array.from({ length: TENANTS }, (_, tenant) => `tenant:${tenant}`);
  for (let i = 0; i < 100_000; i++) await service.getToken(names[i % TENANTS]); // warm-up: JIT code is heap too
  const beforeCalls = heapUsed();
  for (let i = 0; i < calls; i++) await service.getToken(names[i % TENANTS]);
  const growth = heapUsed() - beforeCalls;
  const hits = service.getStats().hits;

  const mb = (bytes: number) => bytes / 2 ** 20;
  const overheadBytes = serviceBytes - bareBytes;
  const rows: ResultRow[] = [
    {
      scenario: SCENARIO,
      subject: 'nest-token-manager',
      figure: `heap for ${TENANTS.toLocaleString('en-US')} cached providers`,
      value: mb(serviceBytes),
      unit: 'MiB',
      note: `${Math.round(serviceBytes / TENANTS)} B per provider, ${TOKEN_LENGTH}-char tokens included`,
    },
    {
      scenario: SCENARIO,
      subject: 'bare Map of resolved tokens',
      figure: `heap for ${TENANTS.toLocaleString('en-US')} cached tokens`,
      value: mb(bareBytes),
      unit: 'MiB',
      note: `${Math.round(bareBytes / TENANTS)} B per token: the tokens themselves`,
    },
    {
      scenario: SCENARIO,
      subject: 'nest-token-manager',
      figure: 'library overhead over the bare Map',
      value: mb(overheadBytes),
      unit: 'MiB',
      target: '≤ 5 MiB ("a few MB")',
      met: mb(overheadBytes) <= 5,
      note: `${Math.round(overheadBytes / TENANTS)} B per provider: entry, strategy, options, counters`,
    },
    {
      scenario: SCENARIO,
      subject: 'nest-token-manager',
      figure: `heap growth over ${calls.toLocaleString('en-US')} cached calls`,
      value: growth / 1024,
      unit: 'KiB',
      target: '≈ 0 (< 64 KiB)',
      met: growth < 64 * 1024,
      note: `${hits.toLocaleString('en-US')} hits counted; negative: garbage from setup collected`,
    },
  ];
  keepAlive.length = 0;
  return {
    scenario: SCENARIO,
    rows,
    detail: {
      tenants: TENANTS,
      tokenLength: TOKEN_LENGTH,
      serviceBytes,
      bareBytes,
      overheadBytes,
      growthBytes: growth,
      calls,
    },
  };
}
