import type { DemoSummary } from './run-demo.js';

/** The end of the demo: `getStats()` per provider, then each check with its outcome. */
export function printSummary(print: (line: string) => void, summary: DemoSummary): void {
  const { stats } = summary;
  print('');
  print('getStats()');
  print(
    `  ${'provider'.padEnd(9)} ${'refreshes'.padStart(9)} ${'failures'.padStart(8)} ${'hits'.padStart(8)} ${'waited at start'.padStart(15)} ${'later'.padStart(5)} ${'fallbacks'.padStart(9)} ${'401 retries'.padStart(11)}`,
  );
  for (const [name, p] of Object.entries(stats.tokens)) {
    const atStart = summary.coldStartWaits[name] ?? 0;
    print(
      `  ${name.padEnd(9)} ${String(p.refreshes).padStart(9)} ${String(p.failures).padStart(8)} ${String(p.hits).padStart(8)} ` +
        `${String(atStart).padStart(15)} ${String(p.misses - atStart).padStart(5)} ${String(p.fallbacks).padStart(9)} ` +
        `${String(p.unauthorizedRetries).padStart(11)}`,
    );
  }
  print(
    `  hit rate ${(stats.hitRate * 100).toFixed(2)} % · API calls served ${summary.callsServed}, failed ${summary.callsFailed}` +
      ` · token requests refused during the outage ${summary.tokenRequestsRefused}`,
  );
  print("  waited at start: the cold start's crowd, sharing one token request per provider");
  print(
    '  later: calls that waited after start-up (the retries after a 401 wait for the replacement token);',
  );
  print('         a scheduled refresh never makes a caller wait: it runs in the background');
  print('');
  for (const [what, passed] of Object.entries(summary.checks)) print(`  ${passed ? 'ok  ' : 'FAIL'} ${what}`);
  print(summary.ok ? 'demo ok' : 'demo FAILED: see the checks above');
}
