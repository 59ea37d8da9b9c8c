import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { runDemo } from './demo/run-demo.js';

// `npm run demo`: see src/demo/run-demo.ts. Exits 0 when the demo showed everything it set out to.
// `--timeline=FILE` also writes the run's recording (tokens, refresh windows, outage, calls per
// second) as JSON, which `npm run timeline` draws.
const timelineFile = process.argv.find((arg) => arg.startsWith('--timeline='))?.slice('--timeline='.length);

runDemo().then(
  async (summary) => {
    if (timelineFile) await writeFile(timelineFile, JSON.stringify(summary.timeline, null, 2) + '\n');
    process.exit(summary.ok ? 0 : 1);
  },
  (error: unknown) => {
    console.error('demo crashed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
