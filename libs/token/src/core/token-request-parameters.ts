import { createHash } from 'node:crypto';
import { normalizeScopes, subjectDigest } from './oauth2-cache-key.js';
import { InvalidTokenOptionsError } from './token.errors.js';
import type { TokenRequestParameters } from './token-strategy.interface.js';

/**
 * What a tenant may be: one path segment of RFC 3986 unreserved characters (letters, digits, `-`,
 * `_`, `.`, `~`), 1 to 128 of them, and not `.` or `..`. Nothing in it needs percent-encoding, so
 * no encoded dot or slash can sneak a path traversal past the URL parser.
 */
const TENANT = /^[A-Za-z0-9._~-]{1,128}$/;
/** RFC 6749 §3.3 scope-token: `%x21 / %x23-5B / %x5D-7E` (no space, `"` or `\`). */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators: nothing that can split a line. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MAX_VALUE_CHARS = 2048;

/** Why a tenant is not acceptable, or undefined when it is. Never quotes the value. */
export function tenantProblem(tenant: unknown): string | undefined {
  if (typeof tenant !== 'string' || !TENANT.test(tenant) || tenant === '.' || tenant === '..') {
    return 'must be one path segment of 1-128 letters, digits, "-", "_", "." or "~" (not "." or "..")';
  }
  return undefined;
}

/** Why a scope (string or list) is not acceptable, or undefined when it is. */
export function scopeProblem(scope: unknown): string | undefined {
  const values = typeof scope === 'string' ? [scope] : scope;
  if (!Array.isArray(values) || values.some((value) => typeof value !== 'string')) {
    return 'must be a string or a list of strings';
  }
  // An empty scope asks for nothing more than the provider's own (no variant), as before.
  const tokens = (values as string[]).flatMap((value) => value.split(' ')).filter(Boolean);
  if (!tokens.every((token) => SCOPE_TOKEN.test(token))) {
    return 'must be space-separated scope tokens of printable ASCII without `"` or `\\` (RFC 6749 §3.3)';
  }
  return undefined;
}

/** Why an audience or resource value (string or list) is not acceptable, or undefined when it is. */
export function headerSafeProblem(value: unknown): string | undefined {
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values) || values.length === 0) return 'must be a non-empty string or list';
  for (const item of values) {
    if (typeof item !== 'string' || item.length === 0 || item.length > MAX_VALUE_CHARS) {
      return `must be non-empty strings of at most ${MAX_VALUE_CHARS} characters`;
    }
    if (CONTROL.test(item)) return 'must not contain control characters (CR, LF…)';
  }
  return undefined;
}

/** Checks each per-call parameter; throws `InvalidTokenOptionsError` naming the first bad field. */
function validateRequestParameters(parameters: TokenRequestParameters, provider?: string): void {
  const checks: [keyof TokenRequestParameters, (value: unknown) => string | undefined][] = [
    ['tenant', tenantProblem],
    ['scope', scopeProblem],
    ['audience', headerSafeProblem],
    ['resource', headerSafeProblem],
  ];
  for (const [field, problemOf] of checks) {
    const value = parameters[field];
    if (value === undefined) continue;
    const problem = problemOf(value);
    if (problem) {
      const subject = provider === undefined ? '' : `token provider "${provider}": `;
      throw new InvalidTokenOptionsError(`${subject}per-call "${field}" ${problem}`, provider, field);
    }
  }
}

/**
 * The per-call parameters given in `options`, validated, or undefined when there are none. Runs
 * before a variant is made, so a bad value never reaches a strategy nor a request.
 */
export function requestParametersOf(
  options: TokenRequestParameters | undefined,
  provider?: string,
): TokenRequestParameters | undefined {
  if (options === undefined) return undefined;
  const { scope, audience, resource, tenant, subjectToken } = options;
  if (
    scope === undefined &&
    audience === undefined &&
    resource === undefined &&
    tenant === undefined &&
    subjectToken === undefined
  )
    return undefined;
  if (
    subjectToken !== undefined &&
    (typeof subjectToken !== 'string' || !/^[\x20-\x7e]{1,8192}$/.test(subjectToken))
  ) {
    throw new InvalidTokenOptionsError(
      `${provider === undefined ? '' : `token provider "${provider}": `}per-call "subjectToken" must be 1-8192 printable ASCII characters`,
      provider,
      'subjectToken',
    );
  }
  const parameters = { scope, audience, resource, tenant, subjectToken };
  validateRequestParameters(parameters, provider);
  return parameters;
}

/**
 * The key of the variant these parameters make: an injective encoding of the parameters as the
 * strategies read them (scopes split on spaces, without repeats, sorted; resources without repeats,
 * sorted; the subject token's full SHA-256), as canonical JSON. Each field has its own place, so no
 * separator inside a value can make two different requests share a key, and no value can pose as
 * another field. Used only to look variants up; never shown, never parsed.
 */
export function variantKeyOf(parameters: TokenRequestParameters): string | undefined {
  const scopes = normalizeScopes(parameters.scope);
  const resources =
    parameters.resource === undefined ? null : [...new Set([parameters.resource].flat())].sort();
  const key = [
    scopes.length > 0 ? scopes : null,
    parameters.audience ?? null,
    resources,
    parameters.tenant ?? null,
    parameters.subjectToken === undefined
      ? null
      : createHash('sha256').update(parameters.subjectToken).digest('base64url'),
  ];
  // No field set (an empty scope asks for nothing more than the provider's own): the provider itself.
  return key.every((field) => field === null) ? undefined : JSON.stringify(key);
}

/**
 * A value shown bare in a label: no space, comma, `=`, quote, parenthesis, backslash or control
 * character, so the label reads back to one set of parameters. Anything else is shown as a JSON string.
 */
// eslint-disable-next-line no-control-regex
const BARE = /^[^\s,=()"\\\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/;
const shown = (value: string): string => (BARE.test(value) ? value : JSON.stringify(value));

/**
 * A readable label of the parameters for logs, events and stats (`scope=Mail.Read User.Read,
 * tenant=contoso`): made from the same fields as {@link variantKeyOf}, never parsed back, and
 * unambiguous (a value holding a separator is quoted). The subject token shows as a short digest only.
 */
export function describeRequestParameters(parameters: TokenRequestParameters): string {
  const parts: string[] = [];
  const scopes = normalizeScopes(parameters.scope);
  if (scopes.length > 0) parts.push(`scope=${scopes.map(shown).join(' ')}`);
  if (parameters.audience !== undefined)
    parts.push(`audience=${[parameters.audience].flat().map(shown).join(' ')}`);
  if (parameters.resource !== undefined) {
    parts.push(`resource=${[...new Set([parameters.resource].flat())].sort().map(shown).join(' ')}`);
  }
  if (parameters.tenant !== undefined) parts.push(`tenant=${shown(parameters.tenant)}`);
  // A digest only: the subject token is a credential.
  if (parameters.subjectToken !== undefined) parts.push(`subject=${subjectDigest(parameters.subjectToken)}`);
  return parts.join(', ');
}
