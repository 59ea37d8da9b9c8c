export * from './token-health.module.js';
export * from './token.health-indicator.js';
