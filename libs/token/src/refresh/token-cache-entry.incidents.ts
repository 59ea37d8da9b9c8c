import type { TokenError } from '../core/token.errors.js';
import type { TokenInfo } from '../core/token-info.js';

/**
 * What a cache entry keeps only once something went wrong or out of the ordinary: a failed refresh
 * (backoff, last error), a fallback served, a 401 (renewal cool-down), a refresh queued behind one
 * let go by an eviction, too many per-call variants. Most providers never need it, so the entry
 * creates it on first use instead of carrying these fields on every provider (about 100 bytes
 * each, at 10,000 providers a megabyte). Every field exists from the start: one object shape.
 */
export class TokenCacheEntryIncidents {
  /** The one refresh waiting for `running` to finish; it takes the generation current when it starts. */
  queued: Promise<TokenInfo> | undefined = undefined;

  /** No refresh before this instant (backoff after a failure). */
  nextAttemptAt = 0;
  consecutiveFailures = 0;
  lastError: TokenError | undefined = undefined;
  /** The "no valid token" error was logged for the current failure episode. */
  expiryReported = false;
  failures = 0;
  fallbacks = 0;

  /** Requests retried once after an API answered 401 with this provider's token. */
  unauthorizedRetries = 0;
  /** The token a renewal after a 401 brought; the API rejecting it too means renewing does not help. */
  renewedToken: string | undefined = undefined;
  /** The renewed token whose rejection is already counted in `rejectedRenewals`. */
  countedRejection: string | undefined = undefined;
  /** Renewals after a 401 in a row whose new token was rejected as well. */
  rejectedRenewals = 0;
  /** No 401-driven renewal before this instant. */
  nextRenewalAt = 0;

  /** A variant with a valid token had to be dropped; logged once. */
  variantsOverflowed = false;
}

/** What an entry without incidents reads: the initial values. Never written. */
export const NO_INCIDENTS: Readonly<TokenCacheEntryIncidents> = Object.freeze(new TokenCacheEntryIncidents());
