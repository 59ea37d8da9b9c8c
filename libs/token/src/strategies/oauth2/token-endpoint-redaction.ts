/**
 * Scrubs secrets out of text that came back from a token endpoint before it goes into an error.
 * A misbehaving server may echo the request (the client secret, the assertion, the refresh token,
 * the `Authorization` header) or put a token into an error page; none of it may reach a log.
 */

import { decodedViews, secretForms } from './token-endpoint-decoding.js';

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * What replaces a whole piece of server text that still spells a secret in some encoding after
 * redaction: it is not kept at all rather than kept half-safe.
 */
export const WITHHELD = '[withheld: the server echoed a credential]';

/** Longest piece of server text (an `error_description`, a body snippet) kept in an error. */
export const MAX_SNIPPET_CHARS = 512;

/** Text read past the cap before redacting, so a secret crossing the cut is still seen whole. */
const WINDOW_MARGIN_CHARS = 4096;

/** Fields whose value is a credential wherever they appear, in JSON or form encoding. */
const SECRET_FIELDS = [
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'client_assertion',
  'assertion',
  'password',
];

const fieldAlternation = SECRET_FIELDS.join('|');
const jsonField = new RegExp(
  `("(?:${fieldAlternation})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"?|[^,}\\]\\s]+)`,
  'gi',
);
const formField = new RegExp(`(\\b(?:${fieldAlternation})=)[^&\\s"'<>]*`, 'gi');
const authorizationValue = /(\b(?:basic|bearer|dpop)\s+)[A-Za-z0-9\-._~+/]+=*/gi;
// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** Replaces every given secret (and its common encodings) and every credential-looking field. */
export interface Redactor {
  (text: string): string;
  /** True when the text holds one of the secrets (in any of the encodings matched). */
  reveals(text: string): boolean;
}

/** The spellings of a secret replaced in place; others are caught by `reveals` and withheld. */
function spellings(secret: string): string[] {
  const percent = encodeURIComponent(secret);
  const form = new URLSearchParams({ s: secret }).toString().slice(2);
  const json = JSON.stringify(secret).slice(1, -1);
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  return [
    secret,
    percent,
    lower(percent),
    form,
    lower(form),
    json,
    json.replace(/\//g, '\\/'),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('base64url'),
  ];
}

/**
 * Builds a {@link Redactor} for the secrets of one request. Secrets are replaced raw, form- and
 * percent-encoded (either case), JSON-escaped and base64-encoded, longest first so a secret inside
 * another is not half-replaced; `reveals` also decodes HTML entities, `\uXXXX` escapes, line breaks
 * and chains of encodings, for the caller to withhold what could not be replaced.
 */
export function createRedactor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const variants = new Set<string>();
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    for (const spelling of spellings(secret)) variants.add(spelling);
    for (const form of secretForms(secret)) forms.add(form);
  }
  const ordered = [...variants].filter((v) => v.length > 0).sort((a, b) => b.length - a.length);
  const decodedForms = [...forms];
  const redact = (text: string) => {
    let out = text;
    // Repeat until stable: replacing one secret can join two halves of another into a whole one.
    for (let round = 0; round < 4; round++) {
      const before = out;
      for (const variant of ordered) out = out.split(variant).join(REDACTED);
      out = out
        .replace(jsonField, `$1"${REDACTED}"`)
        .replace(formField, `$1${REDACTED}`)
        .replace(authorizationValue, `$1${REDACTED}`);
      if (out === before) break;
    }
    return out;
  };
  const reveals = (text: string) => {
    if (ordered.length === 0) return false;
    if (ordered.some((variant) => text.includes(variant))) return true;
    return decodedViews(text).some((view) => decodedForms.some((form) => view.includes(form)));
  };
  return Object.assign(redact, { reveals });
}

/**
 * A {@link Redactor} that also hides `more` secrets, e.g. tokens found in the very answer being
 * reported. Values shorter than 4 characters are not secrets worth mangling a message for.
 */
export function withMoreSecrets(redact: Redactor, more: ReadonlyArray<unknown>): Redactor {
  const extra = more.filter((v): v is string => typeof v === 'string' && v.length >= 4);
  if (extra.length === 0) return redact;
  const redactExtra = createRedactor(extra);
  return Object.assign((text: string) => redact(redactExtra(text)), {
    reveals: (text: string) => redact.reveals(text) || redactExtra.reveals(text),
  });
}

/**
 * Server text made fit for an error message: control characters (log injection) turned into
 * spaces, secrets redacted, capped. Redaction runs after every change to the text, so neither the
 * clean-up nor the cut can assemble a secret.
 */
export function sanitizeServerText(text: string, redact: Redactor, maxChars = MAX_SNIPPET_CHARS): string {
  // Only the start can be shown; a margin past the cut keeps a secret straddling it whole, so it is
  // still recognised (field patterns also match a value cut short). Keeps huge pages cheap.
  const window =
    text.length > maxChars + WINDOW_MARGIN_CHARS ? text.slice(0, maxChars + WINDOW_MARGIN_CHARS) : text;
  const clean = redact(window.replace(controlCharacters, ' '));
  const shown = clean.length <= maxChars && window === text ? clean : redact(`${clean.slice(0, maxChars)}…`);
  // A secret still there in another spelling (HTML entities, base64, split across lines…), shown or
  // just past the cut where a part of it would show: keep nothing.
  return redact.reveals(clean) || redact.reveals(shown) ? WITHHELD : shown;
}
