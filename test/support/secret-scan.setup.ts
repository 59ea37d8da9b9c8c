import { afterAll } from '@jest/globals';
import { TokenError } from '../../libs/token/src/core/token.errors.js';
import { captureOutput, collectInstances, findLeaks, renderError } from './secret-scan.js';
import { TEST_SECRETS } from './test-secrets.js';

// Runs in every test file (jest `setupFilesAfterEnv`): whatever the file logs, prints or throws as a
// TokenError is scanned for the suite's secrets once the file is done. A leak fails the file.
// What the code under test logs is recorded and scanned but not printed, so the report shows tests,
// not Nest log lines; `TEST_LOGS=1 npm test` prints them too.
const output: string[] = [];
const errors: unknown[] = [];
const stopCapture = captureOutput(output, { echo: process.env.TEST_LOGS === '1' });
const stopCollecting = collectInstances(TokenError, errors);

afterAll(() => {
  stopCapture();
  stopCollecting();
  const leaks = findLeaks([...output, ...errors.flatMap(renderError)], TEST_SECRETS);
  if (leaks.length > 0) {
    throw new Error(`secret scan: ${leaks.length} leak(s) of a test secret\n${leaks.slice(0, 5).join('\n')}`);
  }
});
