/*
 * `nest-token-manager/testing`: helpers for the tests of applications that use the library. Not
 * loaded by the main entry; nothing here is meant for production code.
 */
export { ManualClock } from '../core/clock.js';
export { FakeTokenStrategy } from './fake-token-strategy.js';
export { InMemoryTokenStore } from './in-memory-token-store.js';
