import type { ProviderOriginRules } from '../core/token-source.js';

/**
 * The origins `checkTokenOrigin` (origin-policy.ts) lets the token of a provider without `baseUrls`
 * go to, in words, for the warning. origin-description.spec.ts holds it to the rule, so what is said
 * and what is done cannot drift apart. Not exported from the package: a log text, not an API.
 */
export function describeUnboundOrigins(options: Readonly<ProviderOriginRules>): string {
  return options.allowInsecureHttp === true
    ? 'any origin, https or plain http (allowInsecureHttp), that a request in its context names'
    : 'any https origin, and any plain-http loopback origin (localhost, 127.0.0.0/8, ::1), that a ' +
        'request in its context names';
}
