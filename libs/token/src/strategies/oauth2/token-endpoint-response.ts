import {
  TokenEndpointError,
  TokenEndpointRetryLaterError,
  TokenRequestError,
  TokenResponseError,
} from '../../core/token.errors.js';
import { TokenInfo } from '../../core/token-info.js';
import { admitToken, jwtExpiry } from '../../core/token-admission.js';
import {
  describeBody,
  describeContentType,
  errorCodeOf,
  sanitizeServerText,
  withMoreSecrets,
  type Redactor,
} from './token-endpoint-redaction.js';
import type { TokenEndpointRawResponse } from './token-endpoint-request.js';

/** How to read a token endpoint's answer. */
export interface TokenResponseParseOptions {
  /** When the answer arrived (epoch ms); becomes `issuedAt` and the base of `expires_in`. */
  receivedAt: number;
  /** Lifetime used when neither `expires_in` nor the token's own `exp` says one. */
  defaultExpiresInSeconds: number;
  /** Scrubs the request's secrets out of any server text put into an error. */
  redact: Redactor;
  /** `token_type` values accepted besides `Bearer`; anything else is a `TokenResponseError`. */
  allowedTokenTypes?: readonly string[];
  /** The endpoint's origin and path (no query), named in errors that carry no `error` code. */
  endpoint?: string;
}

/** §5.1 fields taken out of the body; everything else goes to `TokenInfo.extra`. */
const CORE_FIELDS = new Set(['access_token', 'token_type', 'expires_in']);
/** RFC 6749 A.12 / A.13: printable ASCII; the value goes straight into a header. */
const VSCHAR = /^[\x20-\x7e]+$/;
/** RFC 7230 token: what an `Authorization` scheme may look like. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NUMERIC = /^\s*\d+(?:\.\d+)?\s*$/;

/**
 * Interprets a token endpoint's answer (RFC 6749 §5.1 success, §5.2 error) as a {@link TokenInfo}
 * or a typed error:
 * - a non-2xx status, or a 2xx whose body has an `error` field → `TokenEndpointError` with the
 *   `error` code and `error_description` as far as they may be shown, and the body's kind and size;
 *   a 3xx → `TokenRequestError`
 *   (redirects are not followed);
 * - a 2xx that is not a JSON object with a usable `access_token`, `token_type` and `expires_in`
 *   → `TokenResponseError`.
 *
 * `expires_in` may be a number or a numeric string; when it is missing the token's own `exp`
 * (if it is a JWT, decoded without verification) is used, then `defaultExpiresInSeconds`. The
 * result then passes the token gate (`token-admission.ts`): `b64token` characters for a Bearer or
 * DPoP token, the earlier of `expires_in` and a JWT's own `exp`, at most a year kept.
 * Error messages never quote a token or a secret.
 */
export function parseTokenEndpointResponse(
  response: TokenEndpointRawResponse,
  options: TokenResponseParseOptions,
): TokenInfo {
  const { status } = response;
  if (status >= 300 && status < 400) {
    throw new TokenRequestError(
      `token endpoint redirected (${status}); redirects are not followed, check "tokenUrl"`,
    );
  }
  if (status < 200 || status >= 300) {
    const error = endpointError(response, options, parseObject(response.body));
    // 429 and 503 may say when to come back (RFC 9110 §10.2.3); the refresh engine waits at least that.
    const retryAfterMs =
      status === 429 || status === 503 ? retryAfterMsOf(response.retryAfter, options.receivedAt) : undefined;
    if (retryAfterMs === undefined) throw error;
    throw new TokenEndpointRetryLaterError(
      status,
      error.error,
      error.errorDescription,
      error.body,
      retryAfterMs,
      error.endpoint,
    );
  }

  if (!isJsonMediaType(response.contentType)) {
    const shown = describeContentType(response.contentType, options.redact);
    throw new TokenResponseError(
      `token endpoint answered ${status} with content-type "${shown}", expected application/json`,
    );
  }
  const body = parseObject(response.body);
  if (body === undefined) {
    throw new TokenResponseError(`token endpoint answered ${status} with a body that is not a JSON object`);
  }
  if (body.error !== undefined && body.error !== null) {
    if (typeof body.error === 'string' && body.error.length > 0) throw endpointError(response, options, body);
    throw new TokenResponseError(`token endpoint answered ${status} with a malformed "error" field`);
  }

  const token = body.access_token;
  if (typeof token !== 'string' || token.length === 0) {
    throw new TokenResponseError(
      'token endpoint response has no "access_token" (a non-empty string is required)',
    );
  }
  if (!VSCHAR.test(token)) {
    throw new TokenResponseError(
      'token endpoint response "access_token" has characters outside printable ASCII',
    );
  }

  const info = new TokenInfo({
    token,
    tokenType: tokenTypeOf(body.token_type, options.allowedTokenTypes),
    issuedAt: options.receivedAt,
    expiresAt: expiresAtOf(body.expires_in, token, options),
    extra: extraOf(body),
  });
  // The gate every token passes: token characters for its scheme, a JWT's own `exp`, the lifetime bound.
  return admitToken(info, { allowedTokenTypes: options.allowedTokenTypes }, options.receivedAt, 'endpoint');
}

/** `application/json`, `application/json; charset=utf-8`, `application/jwk+json`… */
export function isJsonMediaType(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0].trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[!#$&^_.+\w-]+\+json$/.test(mediaType);
}

function tokenTypeOf(value: unknown, allowed: readonly string[] = []): string {
  if (value === undefined || value === null) return 'Bearer';
  if (typeof value !== 'string' || !HTTP_TOKEN.test(value)) {
    throw new TokenResponseError('token endpoint response "token_type" is not a valid authorization scheme');
  }
  // RFC 6749 §5.1: case-insensitive; RFC 6750 spells it `Bearer`, and some servers reject `bearer`.
  const lower = value.toLowerCase();
  if (lower === 'bearer') return 'Bearer';
  // RFC 6749 §7.1: a token type the client does not understand must not be used. The value is not
  // quoted: a server that echoes the request could have put a secret there.
  const listed = allowed.find((scheme) => scheme.toLowerCase() === lower);
  if (listed === undefined) {
    throw new TokenResponseError(
      'token endpoint response "token_type" is not "Bearer"; list the scheme in the provider\'s ' +
        '"allowedTokenTypes" to send tokens of that type',
    );
  }
  return listed;
}

function expiresAtOf(value: unknown, token: string, options: TokenResponseParseOptions): number {
  let seconds: number | undefined;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && NUMERIC.test(value)) seconds = Number(value);
  else if (value !== undefined && value !== null) {
    throw new TokenResponseError('token endpoint response "expires_in" is not a number');
  }
  if (seconds !== undefined) {
    const expiresAt = options.receivedAt + seconds * 1000;
    if (!Number.isFinite(seconds) || seconds < 0 || !Number.isSafeInteger(Math.floor(expiresAt))) {
      throw new TokenResponseError(
        'token endpoint response "expires_in" is not a non-negative finite number of seconds',
      );
    }
    return Math.floor(expiresAt);
  }
  const exp = jwtExpiry(token);
  if (exp !== undefined) return exp;
  return options.receivedAt + options.defaultExpiresInSeconds * 1000;
}

function extraOf(body: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (!CORE_FIELDS.has(key))
      Object.defineProperty(extra, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return extra;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The error for a §5.2 answer or a non-2xx status, made of what may be shown (see
 * token-endpoint-redaction.ts): the vetted `error` code, the description word by word, and the
 * body's kind and size. The body's text is kept nowhere.
 */
function endpointError(
  response: TokenEndpointRawResponse,
  options: TokenResponseParseOptions,
  body: Record<string, unknown> | undefined,
): TokenEndpointError {
  // An error answer that carries tokens anyway must not have them quoted back, anywhere in it.
  const redact = withMoreSecrets(options.redact, [body?.access_token, body?.refresh_token, body?.id_token]);
  const description =
    typeof body?.error_description === 'string' && body.error_description.length > 0
      ? sanitizeServerText(body.error_description, redact, 256)
      : undefined;
  const summary = describeBody(response.body, response.contentType);
  const error = new TokenEndpointError(
    response.status,
    errorCodeOf(body?.error, redact),
    description,
    summary,
    options.endpoint,
  );
  // Each piece is clean; make sure joining them into the message did not spell a secret either.
  if (!redact.reveals(error.message) && !redact.overlaps(error.message)) return error;
  return new TokenEndpointError(response.status, undefined, undefined, summary, options.endpoint);
}

/**
 * A `Retry-After` value in milliseconds from `now`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function retryAfterMsOf(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` or asctime
  // `Sun Nov  6 08:49:37 1994` (RFC 9110 §5.6.7: all three). Each is GMT, asctime without saying so
  // (Date.parse would read local time); a second "GMT" changes nothing.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  const at = Date.parse(`${text} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
