import { ProviderLabels, sumByProvider, toSnapshot } from './token-metrics.providers.js';
import type { TokenMetricsSnapshot, TokenMetricsSource } from './token-metrics.types.js';

/**
 * The service's figures as a {@link TokenMetricsSnapshot}, read from `getStats()`: cheap enough to call
 * on every scrape or collection cycle. Per-call variants (`getToken(name, { tenant })`) are summed
 * into their provider, so the keys of `providers` are provider names only, however many tenants or
 * scopes callers use.
 *
 * @publicApi
 * @example
 * app.get('/internal/token-metrics', () => tokenMetricsSnapshot(tokenService));
 */
export function tokenMetricsSnapshot(
  source: Pick<TokenMetricsSource, 'getStats' | 'providerNames'>,
): TokenMetricsSnapshot {
  const labels = new ProviderLabels(source.providerNames?.bind(source), Infinity);
  const stats = source.getStats();
  return toSnapshot(
    stats,
    sumByProvider(stats.tokens, (name, row) => labels.labelOfRow(name, row)),
  );
}
