import { normalizeScopes } from './strategies/oauth2/oauth2-cache-key.js';
import type { TokenRequestParameters } from './token-strategy.interface.js';

/** The per-call parameters given in `options`, or undefined when there are none. */
export function requestParametersOf(
  options: TokenRequestParameters | undefined,
): TokenRequestParameters | undefined {
  if (options === undefined) return undefined;
  const { scope, audience, resource, tenant } = options;
  if (scope === undefined && audience === undefined && resource === undefined && tenant === undefined)
    return undefined;
  return { scope, audience, resource, tenant };
}

/**
 * A readable, canonical label of the parameters: the same scopes in any order give the same label.
 * It names the variant in logs and stats and keys it in the cache; none of the values is a secret.
 */
export function describeRequestParameters(parameters: TokenRequestParameters): string {
  const parts: string[] = [];
  const scopes = normalizeScopes(parameters.scope);
  if (scopes.length > 0) parts.push(`scope=${scopes.join(' ')}`);
  if (parameters.audience !== undefined) parts.push(`audience=${parameters.audience}`);
  if (parameters.resource !== undefined) {
    parts.push(`resource=${[...new Set([parameters.resource].flat())].sort().join(' ')}`);
  }
  if (parameters.tenant !== undefined) parts.push(`tenant=${parameters.tenant}`);
  return parts.join(', ');
}
