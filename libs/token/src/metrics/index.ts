/*
 * `nest-token-manager/metrics`: a separate entry so that prom-client (an optional peer dependency)
 * is loaded only by applications that ask for Prometheus metrics.
 */
export * from './token-metrics.opentelemetry.js';
export * from './token-metrics.prometheus.js';
export * from './token-metrics.snapshot.js';
export { DEFAULT_MAX_PROVIDER_LABELS, OVERFLOW_PROVIDER_LABEL } from './token-metrics.providers.js';
