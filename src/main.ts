import 'reflect-metadata';
import { runDemo } from './demo/run-demo.js';

// `npm run demo`: see src/demo/run-demo.ts. Exits 0 when every call was served with a valid token.
runDemo().then(
  (summary) => process.exit(summary.ok ? 0 : 1),
  (error: unknown) => {
    console.error('demo crashed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
