import { TokenEndpointError, TokenRequestError } from '../../core/token.errors.js';
import type { TokenInfo } from '../../core/token-info.js';

/** The refresh token a token response carried (RFC 6749 §5.1), if any. */
export function refreshTokenOf(info: TokenInfo): string | undefined {
  const value = info.extra.refresh_token;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * After a failed refresh-token grant: true when the server may still honour the refresh token, i.e.
 * it did not get to decide on it (5xx, 429, no answer). False when it refused it (RFC 6749 §5.2
 * `invalid_grant`, or any other 4xx) or answered 2xx with something unreadable (it may have rotated it).
 */
export function mayStillHonour(error: unknown): boolean {
  if (error instanceof TokenEndpointError) {
    if (error.error === 'invalid_grant') return false;
    return error.status >= 500 || error.status === 429;
  }
  return error instanceof TokenRequestError;
}
