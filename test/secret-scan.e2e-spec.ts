import { describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { TokenAcquisitionError, TokenEndpointError, TokenError } from '@app/token';
import { captureOutput, collectInstances, findLeaks, renderError } from './support/secret-scan.js';

// The harness that scans every test file must itself be able to catch a leak.
describe('secret scan harness', () => {
  const secret = 'harness-self-test-secret-000';

  it('sees a secret written through Nest Logger and the console', () => {
    const output: string[] = [];
    const stop = captureOutput(output);
    try {
      new Logger('Probe').warn(`oops ${secret}`);
      console.warn('plain', secret);
    } finally {
      stop();
    }
    expect(findLeaks(output, [secret])).toHaveLength(2);
  });

  it('records every line without printing it when echo is off (a quiet report, the same scan)', () => {
    const passedOn: string[] = [];
    const quiet: string[] = [];
    const stopOuter = captureOutput(passedOn, { echo: false }); // stands for the terminal
    const stopQuiet = captureOutput(quiet, { echo: false });
    try {
      new Logger('Probe').warn(`oops ${secret}`);
      console.log('plain', secret);
      process.stderr.write(`raw ${secret}\n`);
    } finally {
      stopQuiet();
      stopOuter();
    }
    expect(findLeaks(quiet, [secret])).toHaveLength(3);
    expect(passedOn).toEqual([]);
  });

  it('sees every TokenError built, including nested causes', () => {
    const errors: unknown[] = [];
    const stop = collectInstances(TokenError, errors);
    try {
      new TokenAcquisitionError('p', new Error(`cause with ${secret}`));
      new TokenEndpointError(400, 'invalid_client', undefined, 'clean body');
    } finally {
      stop();
    }
    expect(errors).toHaveLength(2);
    expect((errors[1] as Error).name).toBe('TokenEndpointError');
    expect(findLeaks(errors.flatMap(renderError), [secret]).length).toBeGreaterThan(0);
    expect(new TokenEndpointError(500, undefined, undefined).name).toBe('TokenEndpointError');
  });
});
