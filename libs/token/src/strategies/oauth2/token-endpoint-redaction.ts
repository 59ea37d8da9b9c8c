/**
 * What of a token endpoint's answer may reach an error message, a log line or an event. A misbehaving
 * server may echo the request (the client secret, an assertion, a subject token) in any encoding it
 * likes, so the rule is an allow-list by construction rather than a list of encodings to undo:
 * - the `error` code only when it is short, in RFC 6749's character set and reads as words
 *   (`invalid_client`); {@link errorCodeOf};
 * - a description only word by word: plain words, short numbers and punctuation pass; any other run
 *   of characters (letters mixed with digits, hex, base64, escapes, percent runs, URLs, runs that
 *   only invisible characters split) becomes {@link REDACTED}, whatever its length; {@link sanitizeServerText};
 * - the body never: its kind and size instead (`HTML, 2.1 kB`); {@link describeBody}.
 * On top, nothing that repeats 8 characters in a row of a secret the request sent is shown.
 */

import { decodedViews, secretForms } from './token-endpoint-decoding.js';

/** What replaces a run of server text that could carry key material. */
export const REDACTED = '[redacted]';

/** What replaces a whole piece of server text that still spells a sent secret once decoded. */
export const WITHHELD = '[withheld: the server echoed a credential]';

/** Longest piece of server text (an `error_description`) kept in an error. */
export const MAX_SNIPPET_CHARS = 512;

/** Characters in a row of a sent secret that may never be shown. */
const WINDOW = 8;

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

/** Scrubs the secrets of one request out of text; see {@link createRedactor}. */
export interface Redactor {
  (text: string): string;
  /** True when the text holds one of the secrets (in any of the encodings decoded). */
  reveals(text: string): boolean;
  /** True when the text repeats {@link WINDOW} characters in a row of a secret, or all of a shorter one. */
  overlaps(text: string): boolean;
}

/** The spellings of a secret the request itself may have used. */
function spellings(secret: string): string[] {
  const percent = encodeURIComponent(secret);
  const form = new URLSearchParams({ s: secret }).toString().slice(2);
  const base64 = Buffer.from(secret, 'utf8').toString('base64');
  return [
    secret,
    secret.replace(/\s+/g, ' '),
    percent,
    form,
    JSON.stringify(secret).slice(1, -1),
    base64.replace(/=+$/, ''),
    Buffer.from(secret, 'utf8').toString('base64url'),
  ];
}

/**
 * Builds a {@link Redactor} for the secrets of one request: the call replaces each secret (raw,
 * percent-, form-, JSON- or base64-encoded) and every credential-looking field; `overlaps` finds a
 * part of one; `reveals` also decodes HTML entities, escapes and chains of encodings. Cheap to
 * build: the windows are computed only when an error is being described.
 */
export function createRedactor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const given = secrets.filter((secret): secret is string => typeof secret === 'string' && secret.length > 0);
  let ordered: string[] | undefined;
  let windows: Set<string> | undefined;
  let forms: string[] | undefined;
  const variants = () =>
    (ordered ??= [...new Set(given.flatMap(spellings))]
      .filter((v) => v.length > 0)
      .sort((a, b) => b.length - a.length));
  const redact = (text: string) => {
    let out = text;
    for (const variant of variants()) out = out.split(variant).join(REDACTED);
    return out.replace(credentialField, (_match, name: string) => `${name}${REDACTED}`);
  };
  const overlaps = (text: string) => {
    if (given.length === 0) return false;
    windows ??= windowsOf(variants());
    for (let i = 0; i + WINDOW <= text.length; i++) if (windows.has(text.slice(i, i + WINDOW))) return true;
    return variants().some((variant) => variant.length < WINDOW && text.includes(variant));
  };
  const reveals = (text: string) => {
    if (given.length === 0) return false;
    if (variants().some((variant) => text.includes(variant))) return true;
    forms ??= given.flatMap(secretForms);
    return decodedViews(text).some((view) => forms!.some((form) => view.includes(form)));
  };
  return Object.assign(redact, { reveals, overlaps });
}

const credentialField = new RegExp(
  // A value already REDACTED is left alone: a redactor with more secrets runs this twice.
  `((?:"|\\b)(?:${SECRET_FIELDS.join('|')})"?\\s*[:=]\\s*)(?!${REDACTED.replace(/[[\]]/g, '\\$&')})("(?:[^"\\\\]|\\\\.)*"?|[^,}\\]\\s&]+)`,
  'gi',
);

function windowsOf(texts: readonly string[]): Set<string> {
  const windows = new Set<string>();
  for (const text of texts)
    for (let i = 0; i + WINDOW <= text.length; i++) windows.add(text.slice(i, i + WINDOW));
  return windows;
}

/**
 * A {@link Redactor} that also hides `more` secrets, e.g. tokens found in the very answer being
 * reported. Values shorter than 4 characters are not secrets worth mangling a message for.
 */
export function withMoreSecrets(redact: Redactor, more: ReadonlyArray<unknown>): Redactor {
  const extra = more.filter((v): v is string => typeof v === 'string' && v.length >= 4);
  if (extra.length === 0) return redact;
  const other = createRedactor(extra);
  return Object.assign((text: string) => redact(other(text)), {
    reveals: (text: string) => redact.reveals(text) || other.reveals(text),
    overlaps: (text: string) => redact.overlaps(text) || other.overlaps(text),
  });
}

// Invisible characters (zero-width spaces and joiners, BOM, soft hyphen, variation selectors…) are
// dropped first, so a run they split is judged whole; control characters become spaces.
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
const OPENING = /^[(["'“‘«]+/u;
const CLOSING = /[)\]"'”’».,;:!?]+$/u;
const CLOSING_BUT_DOT = /[)\]"'”’»,;:!?]+$/u;
/** A word: lower case with up to two capitals first (`OAuth`), or a short acronym (`HTTP`). */
const WORD_PART = /^(?:\p{Lu}{0,2}\p{Ll}{1,16}|\p{Lu}{1,6})$/u;
/** Parts of a compound word: `client_id`, `grant-type`, `urn:ietf:params`, `client's`. */
const JOINERS = /[-_:'’]/u;
const ABBREVIATION = /^(?:\p{L}\.){2,3}$/u;
const NUMBER = /^\d{1,4}$/;
const PUNCTUATION = /^[-–—:;,.!?…/|*•=+()]{1,3}$/u;
/** Pieces this short, three in a row, spell something out one byte or letter at a time. */
const SHORT = 2;
/** Two-letter words that are not such pieces (`id is a required parameter`). */
const SMALL_WORDS = new Set([
  'is',
  'it',
  'in',
  'on',
  'of',
  'or',
  'to',
  'be',
  'by',
  'as',
  'at',
  'an',
  'no',
  'do',
  'so',
  'if',
  'we',
  'up',
]);

type Kind = 'word' | 'number' | 'punctuation' | 'other';

function kindOf(token: string): { kind: Kind; short: boolean } {
  if (PUNCTUATION.test(token)) return { kind: 'punctuation', short: true };
  const opened = token.replace(OPENING, '');
  const core = opened.replace(CLOSING, '');
  if (NUMBER.test(core)) return { kind: 'number', short: core.length <= SHORT };
  // Before CLOSING took its last dot: "e.g.," and "(U.S.A.)" end in one.
  if (ABBREVIATION.test(opened.replace(CLOSING_BUT_DOT, ''))) return { kind: 'word', short: true };
  const kind = isCompoundWord(core) ? 'word' : 'other';
  return { kind, short: core.length <= SHORT && !SMALL_WORDS.has(core.toLowerCase()) };
}

function isCompoundWord(core: string): boolean {
  if (core.length === 0 || core.length > 64) return false;
  const parts = core.split(JOINERS);
  if (parts.length > 8 || !parts.every((part) => WORD_PART.test(part))) return false;
  // `ab-cd-ef` or `a:b:c`: pieces too short to be words, one byte or letter at a time.
  return !hasShortRun(parts.map((part) => part.length <= SHORT));
}

/** Three short pieces in a row. */
function hasShortRun(short: readonly boolean[]): boolean {
  let run = 0;
  for (const s of short) if ((run = s ? run + 1 : 0) >= 3) return true;
  return false;
}

/**
 * Server prose made fit for an error message: each whitespace-separated run is shown only when it is
 * a plain word, a short number or punctuation; anything else, and numbers or short pieces in a row
 * (byte lists, spaced-out letters), becomes {@link REDACTED}. The whole text is read, however long,
 * but only whole runs are shown, at most `maxChars` of them: a cut can never make a part of a
 * secret look like a word. Nothing repeating 8 characters of a sent secret is kept, and a text that
 * still decodes to one is {@link WITHHELD}.
 */
export function sanitizeServerText(text: string, redact: Redactor, maxChars = MAX_SNIPPET_CHARS): string {
  // Known secrets and credential fields first, so they are not judged as words.
  const clean = redact(text.replace(INVISIBLE, '').replace(CONTROL, ' '));
  const tokens: { text: string; kind: Kind; short: boolean; shown: boolean }[] = [];
  let length = 0;
  let cut = false;
  for (const [raw] of clean.matchAll(/\S+/gu)) {
    // A run longer than the room left is never shown: not normalised, not judged, not cut.
    const huge = raw.length > maxChars;
    const token = huge ? raw : raw.normalize('NFKC');
    const { kind, short } = huge ? { kind: 'other' as const, short: false } : kindOf(token);
    tokens.push({ text: token, kind, short, shown: kind !== 'other' });
    // The first run that does not fit is kept (never shown) only to judge its neighbour.
    if ((length += token.length + 1) > maxChars) {
      cut = true;
      break;
    }
  }
  // Numbers next to numbers, and three short pieces in a row, spell bytes or letters one by one.
  for (let i = 0; i < tokens.length; i++) {
    const next = tokens[i + 1];
    if (tokens[i].kind === 'number' && next?.kind === 'number') tokens[i].shown = next.shown = false;
    if (i >= 2 && tokens[i].short && tokens[i - 1].short && tokens[i - 2].short) {
      tokens[i].shown = tokens[i - 1].shown = tokens[i - 2].shown = false;
    }
  }
  if (cut) tokens.pop();
  // A sent secret's characters, 8 in a row, even across words (a secret may hold spaces).
  hideOverlaps(tokens, redact);
  const shown = render(tokens) + (cut ? ' …' : '');
  return redact.reveals(shown) ? WITHHELD : shown;
}

function render(tokens: readonly { text: string; shown: boolean }[]): string {
  const out: string[] = [];
  for (const token of tokens) {
    const text = token.shown ? token.text : REDACTED;
    if (!(text === REDACTED && out.at(-1) === REDACTED)) out.push(text);
  }
  return out.join(' ');
}

/**
 * Hides the tokens that repeat 8 characters in a row of a sent secret. One pass: a window is looked
 * for from each token on, and hiding tokens only ever removes windows.
 */
function hideOverlaps(tokens: { text: string; shown: boolean }[], redact: Redactor): void {
  for (let start = 0; start < tokens.length; start++) {
    if (!tokens[start].shown) continue;
    // 8 characters reach at most 8 tokens further.
    let last = start;
    while (last + 1 < tokens.length && tokens[last + 1].shown && last - start < WINDOW) last++;
    const run = (from: number, to: number) =>
      tokens
        .slice(from, to + 1)
        .map((token) => token.text)
        .join(' ');
    // Hide the fewest tokens: from this one (unless a later start holds the window too) up to the
    // first that completes a window.
    if (!redact.overlaps(run(start, last)) || (start < last && redact.overlaps(run(start + 1, last))))
      continue;
    let end = start;
    while (!redact.overlaps(run(start, end))) end++;
    for (let i = start; i <= end; i++) tokens[i].shown = false;
  }
}

/** RFC 6749 A.7: `error` is `1*NQSCHAR` (printable ASCII but `"` and `\`). */
const NQSCHAR = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/;
const MAX_ERROR_CODE = 48;

/**
 * The RFC 6749 §5.2 `error` code when it may be shown: a string of at most 48 characters in the
 * RFC's character set that reads as one compound word (`invalid_client`, `use_dpop_nonce`) and
 * repeats no part of a sent secret. Anything else is not shown at all (undefined).
 */
export function errorCodeOf(value: unknown, redact: Redactor): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ERROR_CODE) return undefined;
  if (!NQSCHAR.test(value) || !/^[A-Za-z]/.test(value) || !isCompoundWord(value.replace(/\./g, '_')))
    return undefined;
  return redact.overlaps(value) || redact.reveals(value) ? undefined : value;
}

/** What a response body was, for a message: its kind and size (`HTML, 2.1 kB`), never its text. */
export function describeBody(body: string, contentType: string): string {
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes === 0) return 'no body';
  return `${bodyKind(body, contentType)}, ${formatBytes(bytes)}`;
}

function bodyKind(body: string, contentType: string): string {
  const media = contentType.split(';', 1)[0].trim().toLowerCase();
  if (
    media === 'text/html' ||
    media === 'application/xhtml+xml' ||
    /^\s*<(?:!doctype\s+html|html)\b/i.test(body)
  )
    return 'HTML';
  if (media === 'application/json' || media.endsWith('+json') || isJson(body)) return 'JSON';
  if (media.endsWith('/xml') || media.endsWith('+xml') || /^\s*<\?xml\b/.test(body)) return 'XML';
  return 'text';
}

function isJson(body: string): boolean {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** Charsets a `Content-Type` may name in a message. */
const CHARSETS = new Set(['utf-8', 'utf8', 'utf-16', 'iso-8859-1', 'us-ascii', 'windows-1252', 'latin1']);

/**
 * A `Content-Type` value for a message: the media type when each of its parts reads as a word
 * (`text/html`, `application/problem+json`), with its charset when it is a known one; else `other`.
 */
export function describeContentType(contentType: string, redact: Redactor): string {
  if (contentType.trim() === '') return 'none';
  const [media, ...parameters] = contentType.split(';').map((part) => part.trim());
  const parts = media.split(/[/.+-]/);
  const words =
    /^[\w.+-]+\/[\w.+-]+$/.test(media) && parts.length <= 6 && parts.every((p) => WORD_PART.test(p));
  if (!words || redact.overlaps(media)) return 'other';
  const charset = parameters
    .map((parameter) => /^charset\s*=\s*"?([\w.:-]+)"?$/i.exec(parameter)?.[1])
    .find((value) => value !== undefined && CHARSETS.has(value.toLowerCase()));
  return charset ? `${media}; charset=${charset}` : media;
}
