import { HttpService } from '@nestjs/axios';
import type { DiscoveryService } from '@nestjs/core';
import axios from 'axios';
import { Agent } from 'node:http';
import { lastValueFrom } from 'rxjs';
import { TokenHttpInterceptor } from '../libs/token/src/http/token-http.interceptor.js';
import { TokenRequestAuthorizer } from '../libs/token/src/http/token-request-authorizer.js';
import { TokenInfo } from '../libs/token/src/core/token-info.js';
import { TokenService } from '../libs/token/src/module/token.service.js';
import { pick, type BenchOptions } from './support/options.js';
import type { ResultRow, ScenarioResult } from './support/results.js';
import { elapsedNs, median, rotate } from './support/stats.js';
import { startLoopbackApi } from './support/token-endpoint.js';

const SCENARIO = 'interceptor';
const TOKEN = `eyJ${'x'.repeat(200)}`;

/**
 * A GET to a loopback API through `@nestjs/axios`' `HttpService`: once with the token interceptor
 * attaching the header (`{ token: 'api' }`), once with the same header written by hand, on identical
 * keep-alive connections. The figure is the median extra time per request over the plain request's median.
 */
export async function run(options: BenchOptions): Promise<ScenarioResult> {
  const pairs = pick(options, 4_000, 1_500);
  const api = await startLoopbackApi();
  const url = `${api.origin}/v1/things`;

  const service = new TokenService();
  const expiresAt = Date.now() + 3_600_000;
  service.register(
    'api',
    { cacheKey: 'bench:api', generate: async () => new TokenInfo({ token: TOKEN, expiresAt }) },
    {
      baseUrls: [api.origin],
    },
  );
  await service.getToken('api');

  // The explorer part (`DiscoveryService`) is only used at module init; `instrument()` is the public way in.
  const interceptor = new TokenHttpInterceptor(
    undefined as unknown as DiscoveryService,
    new TokenRequestAuthorizer(service),
  );
  const withInterceptor = new HttpService(
    axios.create({ httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) }),
  );
  interceptor.instrument(withInterceptor);
  const withFixedHeader = new HttpService(
    axios.create({ httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) }),
  );

  const subjects = [
    { name: 'interceptor', get: () => lastValueFrom(withInterceptor.get(url, { token: 'api' })) },
    {
      name: 'fixed header',
      get: () => lastValueFrom(withFixedHeader.get(url, { headers: { Authorization: `Bearer ${TOKEN}` } })),
    },
  ];
  const check = await subjects[0].get();
  if (check.config.headers.get('Authorization') !== `Bearer ${TOKEN}`)
    throw new Error('the interceptor did not attach the header');
  for (const subject of subjects) for (let i = 0; i < 300; i++) await subject.get(); // warm-up

  // Requests alternate one by one (A B, then B A…) and are compared in pairs, so load from elsewhere on
  // the machine hits both sides of a pair alike; the median pair difference ignores the odd stall.
  const differencesUs: number[] = [];
  const timesUs = new Map<string, number[]>(subjects.map((subject) => [subject.name, []]));
  for (let pair = 0; pair < pairs; pair++) {
    const pairTimes = new Map<string, number>();
    for (const subject of rotate(subjects, pair)) {
      const start = process.hrtime.bigint();
      await subject.get();
      pairTimes.set(subject.name, elapsedNs(start) / 1000);
    }
    for (const [name, us] of pairTimes) timesUs.get(name)!.push(us);
    differencesUs.push(pairTimes.get('interceptor')! - pairTimes.get('fixed header')!);
  }
  await api.close();

  const baselineUs = median(timesUs.get('fixed header')!);
  const overheadPercent = (median(differencesUs) / baselineUs) * 100;
  const rows: ResultRow[] = [
    {
      scenario: SCENARIO,
      subject: 'TokenHttpInterceptor on HttpService',
      figure: 'overhead vs fixed header',
      value: overheadPercent,
      unit: '%',
      target: '< 5 %',
      met: overheadPercent < 5,
      note: `+${median(differencesUs).toFixed(1)} µs on a ${baselineUs.toFixed(0)} µs loopback GET (median of ${pairs} pairs)`,
    },
  ];
  return {
    scenario: SCENARIO,
    rows,
    detail: {
      pairs,
      medianDifferenceUs: median(differencesUs),
      medianUs: Object.fromEntries([...timesUs].map(([name, us]) => [name, median(us)])),
    },
  };
}
