/**
 * `WWW-Authenticate` (RFC 9110 §11.6.1) as resource servers send it with RFC 6750 §3 and RFC 9449
 * §7.1 errors: one or more challenges, comma-separated, each a scheme followed by a token68 or by
 * `name=value` parameters whose values may be quoted strings with `\` escapes.
 */

/** One challenge: its scheme as sent, and its parameters with lower-cased names. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;
/** The longest header read: a larger one is not a challenge anyone needs. */
const MAX_HEADER_CHARS = 8_192;

/**
 * The challenges in a header, or `[]` when it is missing or does not parse (a malformed header is
 * treated as no challenge at all, never half-read).
 */
export function parseWwwAuthenticate(header: string | readonly string[] | null | undefined): AuthChallenge[] {
  if (header === null || header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(', ');
  if (text.length > MAX_HEADER_CHARS) return [];
  const scanner = new Scanner(text);
  const challenges: AuthChallenge[] = [];
  try {
    scanner.skipListSeparators();
    while (!scanner.done()) {
      const scheme = scanner.expect(TOKEN);
      const challenge: AuthChallenge = { scheme, params: Object.create(null) as Record<string, string> };
      challenges.push(challenge);
      if (!scanner.whitespace()) {
        scanner.skipListSeparators(true);
        continue;
      }
      // A token68 is followed by the end or a comma, never by `=` then a value.
      const token68 = scanner.peekToken68();
      if (token68 !== undefined) {
        challenge.params[''] = token68;
        scanner.skipListSeparators(true);
        continue;
      }
      for (;;) {
        const save = scanner.position;
        const name = scanner.match(TOKEN);
        scanner.optionalWhitespace();
        if (name === undefined || !scanner.consume('=')) {
          // The next challenge's scheme.
          scanner.position = save;
          break;
        }
        scanner.optionalWhitespace();
        challenge.params[name.toLowerCase()] =
          scanner.peek() === '"' ? scanner.quoted() : scanner.expect(TOKEN);
        if (!scanner.skipListSeparators(true)) break;
      }
    }
  } catch {
    return [];
  }
  return challenges;
}

class Scanner {
  position = 0;

  constructor(private readonly text: string) {}

  done(): boolean {
    return this.position >= this.text.length;
  }

  peek(): string {
    return this.text[this.position];
  }

  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.position;
    const found = pattern.exec(this.text);
    if (found === null) return undefined;
    this.position += found[0].length;
    return found[0];
  }

  expect(pattern: RegExp): string {
    const value = this.match(pattern);
    if (value === undefined) throw new Error('malformed');
    return value;
  }

  consume(char: string): boolean {
    if (this.peek() !== char) return false;
    this.position++;
    return true;
  }

  whitespace(): boolean {
    const start = this.position;
    this.optionalWhitespace();
    return this.position > start;
  }

  optionalWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  /** Skips `OWS , OWS` runs; with `required`, the end also counts. False when neither is there. */
  skipListSeparators(required = false): boolean {
    this.optionalWhitespace();
    let found = false;
    while (this.consume(',')) {
      found = true;
      this.optionalWhitespace();
    }
    if (required && !found && !this.done()) throw new Error('malformed');
    return found;
  }

  peekToken68(): string | undefined {
    const start = this.position;
    const value = this.match(TOKEN68);
    if (value !== undefined) {
      this.optionalWhitespace();
      if (this.done() || this.peek() === ',') return value;
    }
    this.position = start;
    return undefined;
  }

  quoted(): string {
    this.position++; // opening quote
    let value = '';
    while (!this.done()) {
      const char = this.text[this.position++];
      if (char === '"') return value;
      if (char === '\\') {
        if (this.done()) break;
        value += this.text[this.position++];
      } else value += char;
    }
    throw new Error('unterminated quoted string');
  }
}

/**
 * The RFC 6750 / RFC 9449 error the API gave for a token sent with `scheme`: from that scheme's
 * challenge, else from any `Bearer` or `DPoP` challenge. `undefined` without one.
 */
export function tokenChallengeOf(
  header: string | readonly string[] | null | undefined,
  scheme: string,
): AuthChallenge | undefined {
  const challenges = parseWwwAuthenticate(header).filter((c) => c.params.error !== undefined);
  const lower = scheme.toLowerCase();
  return (
    challenges.find((c) => c.scheme.toLowerCase() === lower) ??
    challenges.find((c) => ['bearer', 'dpop'].includes(c.scheme.toLowerCase()))
  );
}
