import { decodeJwt } from 'jose';
import { TokenInfo, type TokenInfoInit } from './token-info.js';
import { InvalidTokenOptionsError, TokenError, TokenResponseError } from './token.errors.js';
import {
  isTokenStrategy,
  type TokenRequestParameters,
  type TokenStrategy,
} from './token-strategy.interface.js';

/**
 * The one gate every token passes before it is cached or served, whatever brought it in: a token
 * endpoint's answer, a strategy's `generate()` (built-in or custom), or the shared store (another
 * replica's entry). It runs when a token enters, never on a cache hit.
 */

/** Longest a token is kept, whatever its issuer says; past it, a new one is asked for. */
export const MAX_TOKEN_LIFETIME_MS = 366 * 24 * 60 * 60 * 1000;

/** What the provider a token is admitted for accepts. */
export interface AdmissionRules {
  /** Stamped on the admitted token; unset keeps the token's own (a response not yet tied to a provider). */
  provider?: string;
  /** Schemes accepted besides `Bearer` (always accepted, in any case), e.g. `DPoP`. */
  allowedTokenTypes?: readonly string[];
}

/**
 * The rules for a provider's tokens: the schemes its strategy lists, and `DPoP` when the strategy
 * holds a DPoP key (its `senderConstraint`: it proves possession of what it fetched).
 */
export function admissionRulesOf(provider: string, strategy: TokenStrategy): AdmissionRules {
  const listed = strategy.allowedTokenTypes ?? [];
  const dpop = (strategy as { senderConstraint?: { dpop?: unknown } }).senderConstraint?.dpop;
  return { provider, allowedTokenTypes: dpop === undefined ? listed : [...listed, 'DPoP'] };
}

/** Where a token comes from: how errors name it and its fields, and what a lifetime past the bound means. */
export type TokenSource = 'strategy' | 'endpoint' | 'store';

interface SourceRules {
  /** Starts each error message: `strategy returned an expired token`. */
  lead: string;
  fields: { token: string; tokenType: string; expiresAt: string };
  /**
   * An expiry past {@link MAX_TOKEN_LIFETIME_MS} or past a JWT's own `exp`: an issuer's word is
   * shortened (the token is asked for again sooner); a shared entry was admitted before it was
   * written, so one that needs shortening was not written by this library and is refused.
   */
  tooLong: 'shorten' | 'reject';
  /**
   * A token already expired is an error from an issuer; a shared entry may simply be old (it still
   * carries the fleet's newest refresh token): whether it is fresh enough is the refresher's call.
   */
  expired: 'reject' | 'leave';
}

const SOURCES: Readonly<Record<TokenSource, SourceRules>> = {
  strategy: {
    lead: 'strategy returned',
    fields: { token: 'token', tokenType: 'tokenType', expiresAt: 'expiresAt' },
    tooLong: 'shorten',
    expired: 'reject',
  },
  endpoint: {
    lead: 'token endpoint response has',
    fields: { token: 'access_token', tokenType: 'token_type', expiresAt: 'expires_in' },
    tooLong: 'shorten',
    // Refused when the strategy hands it over (the response is one step of a strategy's work).
    expired: 'leave',
  },
  store: {
    lead: 'shared entry has',
    fields: { token: 'token', tokenType: 'tokenType', expiresAt: 'expiresAt' },
    tooLong: 'reject',
    expired: 'leave',
  },
};

/** RFC 6750 §2.1 `b64token`: the only characters a Bearer (or DPoP, RFC 9449 §7.1) token may have. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** Any other scheme: visible ASCII and space, no control character (CR, LF…) and nothing beyond ASCII. */
const VISIBLE_ASCII = /^[\x20-\x7e]+$/;
/** Token characters by scheme (lower case); a scheme not listed gets {@link VISIBLE_ASCII}. */
const TOKEN_CHARACTERS: Readonly<Record<string, { pattern: RegExp; name: string }>> = {
  bearer: { pattern: B64TOKEN, name: 'RFC 6750 b64token' },
  dpop: { pattern: B64TOKEN, name: 'RFC 6750 b64token' },
};
/** RFC 9110 §11.1 auth-scheme (a `token`): what may stand before the token in `Authorization`. */
const AUTH_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The token `raw` describes, checked and normalised, or a `TokenResponseError` naming the field:
 * - `token`: a non-empty string of the characters its scheme allows;
 * - `tokenType`: `Bearer` or one of `allowedTokenTypes` (spelled as listed), default `Bearer`;
 * - `expiresAt`: a finite instant after `now`, the earlier of it and a JWT access token's own `exp`,
 *   at most {@link MAX_TOKEN_LIFETIME_MS} ahead (see {@link SourceRules.tooLong});
 * - `issuedAt`: not after `now`; `provider`: the one it is admitted for.
 * No message quotes a token or a type: either may come from someone who should not be echoed.
 */
export function admitToken(raw: unknown, rules: AdmissionRules, now: number, source: TokenSource): TokenInfo {
  const { lead, fields, tooLong, expired } = SOURCES[source];
  const fail = (problem: string) => new TokenResponseError(`${lead} ${problem}`);
  const candidate = raw as Partial<TokenInfoInit> | null | undefined;
  if (typeof candidate?.token !== 'string' || candidate.token.length === 0) throw fail('no token');
  if (typeof candidate.expiresAt !== 'number' || !Number.isFinite(candidate.expiresAt)) {
    throw fail(`a token without a valid "${fields.expiresAt}"`);
  }

  const tokenType = schemeOf(candidate.tokenType, rules.allowedTokenTypes, fields.tokenType, fail);
  const characters = TOKEN_CHARACTERS[tokenType.toLowerCase()] ?? {
    pattern: VISIBLE_ASCII,
    name: 'visible ASCII',
  };
  if (!characters.pattern.test(candidate.token)) {
    throw fail(`a "${fields.token}" with characters outside ${characters.name}`);
  }

  // A JWT access token's own `exp` wins when earlier: the API rejects it from then on.
  const exp = jwtExpiry(candidate.token);
  let expiresAt = candidate.expiresAt;
  if (exp !== undefined && exp < expiresAt) {
    if (tooLong === 'reject') throw fail(`an "${fields.expiresAt}" later than the token's own "exp"`);
    expiresAt = exp;
  }
  if (expiresAt <= now && expired === 'reject') throw fail('an expired token');
  if (expiresAt - now > MAX_TOKEN_LIFETIME_MS) {
    if (tooLong === 'reject') throw fail(`an "${fields.expiresAt}" beyond the longest lifetime kept`);
    expiresAt = now + MAX_TOKEN_LIFETIME_MS;
  }
  const given = candidate.issuedAt;
  const issuedAt = typeof given === 'number' && Number.isFinite(given) ? Math.min(given, now) : now;
  const provider = rules.provider ?? candidate.provider;

  if (
    candidate instanceof TokenInfo &&
    candidate.provider === provider &&
    candidate.tokenType === tokenType &&
    candidate.expiresAt === expiresAt &&
    candidate.issuedAt === issuedAt
  ) {
    return candidate;
  }
  const init = candidate instanceof TokenInfo ? candidate.toInit() : (candidate as TokenInfoInit);
  return new TokenInfo({ ...init, tokenType, expiresAt, issuedAt, provider });
}

/** Why a shared entry fails the gate, or undefined when it passes (for a store entry a failure is a miss, not an error). */
export function admissionProblem(info: TokenInfo, rules: AdmissionRules, now: number): string | undefined {
  try {
    admitToken(info, rules, now, 'store');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The strategy `withParameters()` makes for a per-call variant, or an `InvalidTokenOptionsError`
 * naming the provider and the field: a hook that throws or hands back something that is no strategy
 * must fail the call that asked, not leave a variant whose every call fails. A library error (e.g. a
 * refused tenant) passes through as is; anything else is not quoted, it may hold a secret.
 */
export function admitVariantStrategy(
  provider: string,
  strategy: TokenStrategy,
  parameters: TokenRequestParameters,
): TokenStrategy {
  let variant: unknown;
  try {
    variant = strategy.withParameters!(parameters);
  } catch (error) {
    if (error instanceof TokenError) throw error;
    throw new InvalidTokenOptionsError(
      `token provider "${provider}": its strategy's withParameters() threw ` +
        `(${error instanceof Error ? error.name : typeof error})`,
      provider,
      'withParameters',
    );
  }
  if (!isTokenStrategy(variant)) {
    throw new InvalidTokenOptionsError(
      `token provider "${provider}": withParameters() must return a strategy ` +
        '(a string "cacheKey" and a "generate()" method)',
      provider,
      'withParameters',
    );
  }
  return variant;
}

function schemeOf(
  value: unknown,
  allowed: readonly string[] = [],
  field: string,
  fail: (problem: string) => TokenResponseError,
): string {
  if (value === undefined || value === null) return 'Bearer';
  if (typeof value !== 'string' || !AUTH_SCHEME.test(value)) {
    throw fail(`a "${field}" that is not an authorization scheme`);
  }
  // RFC 6749 §5.1: case-insensitive; RFC 6750 spells it `Bearer`, and some servers reject `bearer`.
  const lower = value.toLowerCase();
  if (lower === 'bearer') return 'Bearer';
  // RFC 6749 §7.1: a token type the client does not understand must not be used.
  const listed = allowed.find((scheme) => scheme.toLowerCase() === lower);
  if (listed === undefined) {
    throw fail(
      `a "${field}" other than "Bearer"; list the scheme in the provider's "allowedTokenTypes" to send tokens of that type`,
    );
  }
  return listed;
}

/** A JWT's `exp` in epoch ms, unverified (only the issuer's word on its own lifetime); undefined otherwise. */
export function jwtExpiry(token: string): number | undefined {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && exp > 0 && Number.isSafeInteger(exp * 1000) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
