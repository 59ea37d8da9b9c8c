import { describe, expect, it } from '@jest/globals';
import { resultFileNames } from '../bench/support/results.js';

// `npm run bench` must not overwrite the committed results unless asked to.
describe('benchmark result files', () => {
  const startedAt = new Date('2026-11-29T19:05:06.789Z');
  it.each([
    { argv: [], json: 'run-2026-11-29T19-05-06Z.json', md: 'run-2026-11-29T19-05-06Z.md' },
    {
      argv: ['--quick', '--only=herd'],
      json: 'run-2026-11-29T19-05-06Z.json',
      md: 'run-2026-11-29T19-05-06Z.md',
    },
    { argv: ['--update'], json: 'latest.json', md: 'latest.md' },
  ])('argv $argv writes $json', ({ argv, json, md }) => {
    expect(resultFileNames(argv, startedAt)).toEqual({ json, md });
  });
});
