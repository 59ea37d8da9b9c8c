/**
 * The ways a server can spell back a secret it was sent: percent-encoding in either case, `+` for
 * space, HTML entities (named, decimal, hex), JSON escapes (`\/`, `\uXXXX`), base64 and base64url,
 * line breaks in the middle. {@link decodedViews} undoes them (alone and chained, a few levels deep)
 * so the redactor can tell whether a piece of server text still holds a secret in any spelling.
 */

/** How many decoding steps are chained: enough for "base64 of a percent-encoded JSON string". */
const MAX_DEPTH = 3;
/** Bound on the views of one text, so a hostile answer cannot make redaction expensive. */
const MAX_VIEWS = 48;
/** Base64 runs shorter than this decode to less than a secret worth finding. */
const MIN_BASE64_RUN = 6;
/** Runs up to this long are also decoded from the 3 other alignments. */
const MAX_REALIGNED_RUN = 512;
/** Base64 decoded per view, at most. */
const MAX_BASE64_CHARS = 16_384;

/** HTML named character references for ASCII, the ones an escaper or a template uses. */
const NAMED_ENTITIES: Record<string, string> = {
  quot: '"',
  amp: '&',
  lt: '<',
  gt: '>',
  apos: "'",
  sol: '/',
  bsol: '\\',
  colon: ':',
  semi: ';',
  comma: ',',
  period: '.',
  excl: '!',
  quest: '?',
  num: '#',
  dollar: '$',
  percnt: '%',
  lpar: '(',
  rpar: ')',
  ast: '*',
  plus: '+',
  equals: '=',
  commat: '@',
  lsqb: '[',
  rsqb: ']',
  lbrack: '[',
  rbrack: ']',
  lcub: '{',
  rcub: '}',
  lbrace: '{',
  rbrace: '}',
  verbar: '|',
  vert: '|',
  hat: '^',
  lowbar: '_',
  grave: '`',
  tilde: '~',
  hyphen: '-',
  dash: '-',
  nbsp: ' ',
  newline: '\n',
  tab: '\t',
};

function fromCodePoint(code: number): string {
  return Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
}

function decodeHtml(text: string): string {
  return text.replace(/&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z]{2,8});?/gi, (match, ref: string) => {
    if (ref[0] === '#') {
      const hex = ref[1] === 'x' || ref[1] === 'X';
      return fromCodePoint(parseInt(ref.slice(hex ? 2 : 1), hex ? 16 : 10)) || match;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? match;
  });
}

function decodeJsonEscapes(text: string): string {
  const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_match, escape: string) =>
    escape.length === 5 ? String.fromCharCode(parseInt(escape.slice(1), 16)) : (simple[escape] ?? escape),
  );
}

function decodePercent(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return Buffer.from(run.replace(/%/g, ''), 'hex').toString('latin1');
    }
  });
}

function decodeForm(text: string): string {
  return decodePercent(text.replace(/\+/g, ' '));
}

function stripWhitespace(text: string): string {
  return text.replace(/\s+/g, '');
}

/**
 * Every base64 or base64url run, decoded as UTF-8: from its start, and for runs of moderate length
 * from each of the other 3 alignments too (the run may begin with a stray character). Bounded, so a
 * page of base64 costs no more than {@link MAX_BASE64_CHARS} characters of decoding.
 */
function decodeBase64Runs(text: string): string {
  const out: string[] = [];
  let budget = MAX_BASE64_CHARS;
  for (const [run] of text.matchAll(/[A-Za-z0-9+/_-]{6,}={0,2}/g)) {
    const standard = run.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    const offsets = standard.length <= MAX_REALIGNED_RUN ? 4 : 1;
    for (let offset = 0; offset < offsets && standard.length - offset >= MIN_BASE64_RUN; offset++) {
      if (budget <= 0) return out.join('\n');
      budget -= standard.length;
      out.push(Buffer.from(standard.slice(offset), 'base64').toString('utf8'));
    }
  }
  return out.join('\n');
}

const DECODERS: ReadonlyArray<(text: string) => string> = [
  decodeHtml,
  decodeJsonEscapes,
  decodePercent,
  decodeForm,
  stripWhitespace,
  decodeBase64Runs,
];

/**
 * The text and what it reads as once decoded, in every order up to {@link MAX_DEPTH} steps, at most
 * {@link MAX_VIEWS} of them (the text itself always first).
 */
export function decodedViews(text: string): string[] {
  const views = [text];
  const seen = new Set(views);
  let frontier = [text];
  for (let depth = 0; depth < MAX_DEPTH && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const view of frontier) {
      for (const decode of DECODERS) {
        if (views.length >= MAX_VIEWS) return views;
        const decoded = decode(view);
        if (decoded.length === 0 || seen.has(decoded)) continue;
        seen.add(decoded);
        views.push(decoded);
        next.push(decoded);
      }
    }
    frontier = next;
  }
  return views;
}

/** A secret as it may be found in a decoded view: as it is, and without its whitespace. */
export function secretForms(secret: string): string[] {
  const stripped = stripWhitespace(secret);
  return stripped !== secret && stripped.length >= 4 ? [secret, stripped] : [secret];
}
