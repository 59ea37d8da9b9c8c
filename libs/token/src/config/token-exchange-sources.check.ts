import { InvalidTokenOptionsError } from '../core/token.errors.js';

type SourceField = 'subjectToken' | 'actorToken';
interface ExchangingConfig {
  tokenExchange?: Partial<Record<SourceField, unknown>>;
}

/** The providers a provider's `tokenExchange` sources `{ provider }` name, with the field naming each. */
function sourcesOf(config: unknown): Array<[SourceField, string]> {
  const exchange = (config as ExchangingConfig).tokenExchange;
  if (exchange === undefined) return [];
  const found: Array<[SourceField, string]> = [];
  for (const field of ['subjectToken', 'actorToken'] as const) {
    const source = exchange[field];
    if (typeof source === 'object' && source !== null && 'provider' in source) {
      found.push([field, String((source as { provider: unknown }).provider)]);
    }
  }
  return found;
}

/**
 * Start-up check of `tokenExchange` sources `{ provider }`: each must name a configured provider,
 * and following them must never come back (a provider waiting on its own refresh would stall every
 * call until the refresh timeout). Throws naming the provider and the field.
 */
export function checkTokenExchangeSources(providers: Record<string, unknown>): void {
  const names = new Set(Object.keys(providers));
  for (const [name, config] of Object.entries(providers)) {
    for (const [field, target] of sourcesOf(config)) {
      if (!names.has(target)) {
        throw new InvalidTokenOptionsError(
          `token provider "${name}": "tokenExchange.${field}" names "${target}", which is not a configured provider`,
          name,
          `tokenExchange.${field}`,
        );
      }
      const path = pathBack(providers, target, name, new Set());
      if (path !== undefined) {
        throw new InvalidTokenOptionsError(
          `token provider "${name}": "tokenExchange.${field}" forms a cycle: ${[name, ...path].map((p) => `"${p}"`).join(' → ')}`,
          name,
          `tokenExchange.${field}`,
        );
      }
    }
  }
}

/** The providers from `from` to `goal` through `{ provider }` sources, or undefined when there is no way. */
function pathBack(
  providers: Record<string, unknown>,
  from: string,
  goal: string,
  seen: Set<string>,
): string[] | undefined {
  if (from === goal) return [goal];
  if (seen.has(from)) return undefined;
  seen.add(from);
  for (const [, next] of sourcesOf(providers[from])) {
    const rest = pathBack(providers, next, goal, seen);
    if (rest !== undefined) return [from, ...rest];
  }
  return undefined;
}
