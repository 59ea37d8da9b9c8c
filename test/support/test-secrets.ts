/**
 * Every secret the test suite configures. The secret scan (secret-scan.setup.ts) fails a test file
 * when one of them shows up in a log line, console output or a TokenError. A new test that uses a
 * new secret adds it here.
 */
export const TEST_SECRETS: readonly string[] = [
  'Cc-e2e-SECRET-canary.4b7f_x',
  'Fz-SECRET-canary-7c1d',
  'Rr-e2e-SECRET-canary.91aa_y',
  'Sx-4f9c1e-DISTINCTIVE-client-secret',
  'Sx~9f3:Q+z/SECRET%é leak-canary',
  'client-secret-zz-9191',
  'http-e2e-secret-0123456789abcdef',
  'kling-secret-key-do-not-leak-7781',
  's3cr3t-Zq9#oauth2-options-spec',
  'super-secret-kling-sk-4242',
  'sk-very-secret-value-9f8e7d',
  'another-secret',
  'wrong-secret-value',
  'redis-password-never-printed',
  'Sx-cache-key-DISTINCTIVE-secret',
  'demo-secret-key-change-me',
  'demo-client-secret',
  'Jw-inspect-SECRET-canary-5e2a',
  'Oc-inspect-SECRET-canary-3d1f',
  'Rt-inspect-REFRESH-canary-8b6c',
  'Cfg-SECRET-canary-0b7e',
  'Fi-fault-SECRET-canary-6a2d',
];
