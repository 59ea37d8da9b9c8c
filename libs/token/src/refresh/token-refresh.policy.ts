import {
  MAX_MARGIN_FRACTION_OF_LIFETIME,
  REFRESH_JITTER_FRACTION_OF_MARGIN,
  TOKEN_DEFAULTS,
} from '../core/token.constants.js';

/**
 * When a cached token stops being fresh. Three states, as in Azure's token cycler:
 * - fresh: `now < refreshAt`; served from memory, nothing else happens;
 * - should refresh: `refreshAt <= now <= mustRefreshAt`; served, and one background refresh starts;
 * - must refresh: `now > mustRefreshAt` (inside the margin) or no token; callers wait for one shared refresh.
 */
export interface RefreshWindows {
  /** Fresh before this instant; from here on, should refresh (in the background). */
  refreshAt: number;
  /** After this instant the token is inside its margin: must refresh (callers wait). */
  mustRefreshAt: number;
  expiresAt: number;
  /** Half the lifetime planned from: nothing refreshes the token earlier, the sweep included. */
  halfLifeAt: number;
  /** The margin in force for this token, after the lifetime cap. */
  marginMs: number;
}

/**
 * The margin actually applied: the configured one, capped at a share of the lifetime left when the
 * token arrived, so short-lived tokens are not refreshed on every call.
 */
export function effectiveMarginMs(configuredMarginMs: number, lifetimeMs: number): number {
  return Math.max(0, Math.min(configuredMarginMs, lifetimeMs * MAX_MARGIN_FRACTION_OF_LIFETIME));
}

/**
 * Plans the refresh of a token received at `receivedAt`. The background refresh starts at
 * 2 × margin before expiry (the seed's rule), pushed later by up to half a margin of jitter so
 * replicas do not all refresh in the same instant.
 */
export function planRefreshWindows(
  expiresAt: number,
  receivedAt: number,
  configuredMarginMs: number,
  random: () => number = Math.random,
): RefreshWindows {
  const marginMs = effectiveMarginMs(configuredMarginMs, expiresAt - receivedAt);
  const mustRefreshAt = expiresAt - marginMs;
  const jitterMs = random() * marginMs * REFRESH_JITTER_FRACTION_OF_MARGIN;
  const refreshAt = Math.min(mustRefreshAt, expiresAt - 2 * marginMs + jitterMs);
  const halfLifeAt = receivedAt + (expiresAt - receivedAt) / 2;
  return { refreshAt, mustRefreshAt, expiresAt, halfLifeAt, marginMs };
}

/**
 * Delay before retrying a failed refresh: exponential from 1 s, capped at 60 s, with "equal jitter"
 * (half fixed, half random) so retries of many replicas spread out.
 */
export function retryDelayMs(consecutiveFailures: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(consecutiveFailures - 1, 0), 30);
  const ceiling = Math.min(
    TOKEN_DEFAULTS.retryMaxDelayMs,
    TOKEN_DEFAULTS.retryInitialDelayMs * 2 ** exponent,
  );
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * Delay before the next attempt after a failure: the backoff of {@link retryDelayMs}, or the
 * server's `Retry-After` when it asks for longer, never more than the backoff maximum (a server
 * asking for an hour must not leave a provider without a token for an hour). While a valid token
 * is held (`validForMs` left), the backoff never outlasts it: one more attempt comes by the time it
 * expires, instead of callers failing fast on an expired token while the endpoint may be back.
 * A server's `Retry-After` is still obeyed.
 */
export function nextAttemptDelayMs(
  consecutiveFailures: number,
  random: () => number = Math.random,
  retryAfterMs?: number,
  validForMs?: number,
): number {
  const backoffMs = retryDelayMs(consecutiveFailures, random);
  if (retryAfterMs !== undefined && retryAfterMs > backoffMs) {
    return Math.min(retryAfterMs, TOKEN_DEFAULTS.retryMaxDelayMs);
  }
  return validForMs !== undefined && validForMs > 0 ? Math.min(backoffMs, validForMs) : backoffMs;
}
