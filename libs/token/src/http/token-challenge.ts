import { TokenInsufficientScopeError } from '../core/token.errors.js';
import { tokenChallengeOf } from './www-authenticate.js';

/** RFC 6749 §3.3 scope tokens, space-separated; anything else is not quoted back. */
const SCOPE_LIST = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;

/**
 * What a 401 or 403 to a request that carried the provider's token says, read from its
 * `WWW-Authenticate` challenge for the token's scheme (RFC 6750 §3, RFC 9449 §7.1):
 * - `insufficient_scope` → a {@link TokenInsufficientScopeError} to throw: no refresh, no retry;
 * - anything else → `undefined`: a 401 keeps today's rule (evict that token if still cached, retry
 *   once), a 403 goes to the caller as it is.
 */
export function insufficientScopeOf(
  status: number,
  header: string | readonly string[] | null | undefined,
  authorizationHeader: string,
  provider: string,
  origin: string,
): TokenInsufficientScopeError | undefined {
  if (status !== 401 && status !== 403) return undefined;
  const scheme = authorizationHeader.slice(0, Math.max(0, authorizationHeader.indexOf(' ')));
  const challenge = tokenChallengeOf(header, scheme);
  if (challenge?.params.error !== 'insufficient_scope') return undefined;
  const scope = challenge.params.scope;
  const shown = scope !== undefined && scope.length <= 512 && SCOPE_LIST.test(scope) ? scope : undefined;
  // No `cause`: the response (and its request config) carries the token.
  return new TokenInsufficientScopeError(provider, origin, status, shown);
}

/**
 * A 401 `use_dpop_nonce` (RFC 9449 §9) is about the proof, not the token: the request was already
 * sent again with the API's nonce, and a new token would not change the answer.
 */
export function isNonceChallenge(
  header: string | readonly string[] | null | undefined,
  authorizationHeader: string,
): boolean {
  if (!authorizationHeader.startsWith('DPoP ')) return false;
  return tokenChallengeOf(header, 'DPoP')?.params.error === 'use_dpop_nonce';
}
