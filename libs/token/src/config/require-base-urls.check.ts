import { InvalidTokenOptionsError } from '../core/token.errors.js';

/**
 * `requireBaseUrls: true`: a configured provider without `baseUrls` stops start-up, naming it and
 * the field. Without `baseUrls` the HTTP integration sends the provider's token to any origin a
 * request in its context names (fail-open); this makes that an explicit choice.
 */
export function checkRequiredBaseUrls(config: {
  requireBaseUrls?: boolean;
  providers?: Record<string, { baseUrls?: readonly string[] }>;
}): void {
  if (config.requireBaseUrls !== true) return;
  for (const [name, provider] of Object.entries(config.providers ?? {})) {
    if (provider.baseUrls === undefined || provider.baseUrls.length === 0) {
      throw new InvalidTokenOptionsError(
        `token provider "${name}": "baseUrls" is required because "requireBaseUrls" is on ` +
          "(list the origins of the API this provider's token is for)",
        name,
        'baseUrls',
      );
    }
  }
}
