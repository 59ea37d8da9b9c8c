/**
 * The Jest run StrykerJS repeats for every mutant (`npm run test:mutation`): the unit specs of the
 * refresh engine, the OAuth2 strategy and the HTTP authorizer. Quick, no real-time waits; the
 * e2e suites (loopback servers, multi-second shutdown caps) stay in `npm test`.
 */
import base from './jest.config.js';

export default {
  ...base,
  roots: ['<rootDir>/libs'],
  testMatch: [
    '<rootDir>/libs/token/src/refresh/**/*.spec.ts',
    '<rootDir>/libs/token/src/token.service.spec.ts',
    '<rootDir>/libs/token/src/token.service.engine.spec.ts',
    '<rootDir>/libs/token/src/token.service.freshness.spec.ts',
    '<rootDir>/libs/token/src/token.service.store.spec.ts',
    '<rootDir>/libs/token/src/strategies/oauth2/oauth2.strategy.spec.ts',
    '<rootDir>/libs/token/src/http/token-request-authorizer.spec.ts',
  ],
  coverageThreshold: undefined,
};
