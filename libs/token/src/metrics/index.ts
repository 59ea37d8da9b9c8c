/*
 * `nest-token-manager/metrics`: a separate entry so that prom-client (an optional peer dependency)
 * is loaded only by applications that ask for Prometheus metrics.
 */
export {
  observeTokenMetrics,
  PROVIDER_ATTRIBUTE,
  type MeterLike,
  type ObservableInstrument,
} from './token-metrics.opentelemetry.js';
export {
  REFRESH_DURATION_BUCKETS_SECONDS,
  registerTokenMetrics,
  type PrometheusTokenMetrics,
  type PrometheusTokenMetricsOptions,
} from './token-metrics.prometheus.js';
export { tokenMetricsSnapshot } from './token-metrics.snapshot.js';
export type {
  ProviderMetricsSnapshot,
  TokenMetricsSnapshot,
  TokenMetricsSource,
} from './token-metrics.types.js';
export { DEFAULT_MAX_PROVIDER_LABELS, OVERFLOW_PROVIDER_LABEL } from './token-metrics.providers.js';
