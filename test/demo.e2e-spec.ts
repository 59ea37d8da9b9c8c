import { describe, expect, it } from '@jest/globals';
import { runDemo } from '../src/demo/run-demo.js';

describe('demo app', () => {
  it('serves every call with one token per provider and prints its summary', async () => {
    const lines: string[] = [];
    const summary = await runDemo({ print: (line) => lines.push(line), logger: false });
    expect(summary).toMatchObject({
      ok: true,
      klingApiRejected: 0,
      klingTokensMinted: 1,
      oauth2TokenRequests: 1,
      partnerCallsFailed: 0,
    });
    expect(summary.klingApiAccepted).toBe(300);
    // Only the callers of the cold burst miss; every later call is a hit.
    expect(summary.misses).toBe(summary.coldCallers);
    expect(summary.hitRate).toBeGreaterThan(0.95);
    expect(lines.join('\n')).toContain('demo ok');
    expect(lines.join('\n')).not.toContain('demo-secret-key-change-me');
  });
});
