/**
 * The redactor of one request, unit by unit: each spelling of a secret the request itself may have
 * used (raw, whitespace collapsed, percent-, form-, JSON-, base64- and base64url-encoded) is replaced
 * by `[redacted]` exactly where it stands; `overlaps` finds any 8 characters in a row of a spelling
 * (and a whole secret shorter than that); `reveals` finds a secret under the encodings it decodes;
 * `withMoreSecrets` adds the tokens of an answer. Then how sanitizeServerText and errorCodeOf judge
 * a run of server text: punctuation, numbers, short pieces, compound words and their bounds.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FIXED_SEED } from '../../testing-support/property-seeds.js';
import {
  REDACTED,
  createRedactor,
  describeContentType,
  errorCodeOf,
  sanitizeServerText,
  withMoreSecrets,
} from './token-endpoint-redaction.js';

/**
 * Two spaces, a tab, a quote, `!` (kept by encodeURIComponent, not by a form), non-ASCII, and a base64
 * form with `+` and `==`: every spelling below differs from every other.
 */
const SECRET = 'Ek  s3cr\u00e9t\t"q!?>~x';

/** Each spelling the redactor is built to replace, written out by hand. */
const SPELLINGS: [string, string][] = [
  ['raw', 'Ek  s3cr\u00e9t\t"q!?>~x'],
  ['whitespace runs as one space', 'Ek s3cr\u00e9t "q!?>~x'],
  ['percent-encoded', 'Ek%20%20s3cr%C3%A9t%09%22q!%3F%3E~x'],
  ['form-encoded', 'Ek++s3cr%C3%A9t%09%22q%21%3F%3E%7Ex'],
  ['JSON-escaped', 'Ek  s3cr\u00e9t\\t\\"q!?>~x'],
  ['base64 without padding', 'RWsgIHMzY3LDqXQJInEhPz5+eA'],
  ['base64url', 'RWsgIHMzY3LDqXQJInEhPz5-eA'],
];

const WINDOW = 8;
const windows = (text: string) =>
  Array.from({ length: text.length - WINDOW + 1 }, (_, i) => text.slice(i, i + WINDOW));

describe('createRedactor: the spellings of a sent secret', () => {
  const redact = createRedactor([SECRET]);

  it('the spellings are the ones the encoders give, each different from the others', () => {
    expect(SPELLINGS.map(([, spelled]) => spelled)).toEqual([
      SECRET,
      SECRET.replace(/\s+/g, ' '),
      encodeURIComponent(SECRET),
      new URLSearchParams({ s: SECRET }).toString().slice(2),
      JSON.stringify(SECRET).slice(1, -1),
      Buffer.from(SECRET).toString('base64').replace(/=+$/, ''),
      Buffer.from(SECRET).toString('base64url'),
    ]);
    expect(new Set(SPELLINGS.map(([, spelled]) => spelled)).size).toBe(SPELLINGS.length);
  });

  it.each(SPELLINGS)('%s: replaced where it stands, nothing of it left', (_name, spelled) => {
    const out = redact(`got <${spelled}> back, twice: ${spelled}.`);
    expect(out).toBe(`got <${REDACTED}> back, twice: ${REDACTED}.`);
    expect(redact.reveals(out)).toBe(false);
    expect(redact.overlaps(out)).toBe(false);
    expect(redact.reveals(spelled)).toBe(true);
  });

  it('base64 with its padding: the padding is all that is left', () => {
    expect(redact('a RWsgIHMzY3LDqXQJInEhPz5+eA== b')).toBe(`a ${REDACTED}== b`);
  });

  it('text without a spelling of the secret is returned as it is', () => {
    const text = 'Ek s3cret "q!?>~x RWsgIHMzY3LDqXQ Ek%20s3cr';
    expect(redact(text)).toBe(text);
    expect(redact.reveals(text)).toBe(false);
  });

  it('the longest spelling goes first: a secret inside a longer one leaves no tail', () => {
    const nested = createRedactor(['Wq7-kestrel', 'Wq7-kestrel-harbour-58']);
    expect(nested('sent Wq7-kestrel-harbour-58 and Wq7-kestrel')).toBe(`sent ${REDACTED} and ${REDACTED}`);
  });

  it('only non-empty strings are secrets', () => {
    const none = createRedactor([undefined, '']);
    expect(none('undefined, "", %22%22 and every letter')).toBe('undefined, "", %22%22 and every letter');
    expect(none.reveals('undefined')).toBe(false);
    expect(none.overlaps('undefined but long')).toBe(false);
    expect(createRedactor([undefined, 'Wq7-kestrel'])('undefined Wq7-kestrel')).toBe(`undefined ${REDACTED}`);
  });
});

describe('createRedactor: credential fields', () => {
  const redact = createRedactor([]);

  it.each([
    [
      '{"access_token":"eyJhbGci.x","token_type":"Bearer"}',
      `{"access_token":${REDACTED},"token_type":"Bearer"}`,
    ],
    ['grant_type=x&refresh_token=rt-9f&scope=a', `grant_type=x&refresh_token=${REDACTED}&scope=a`],
    ['"client_secret" : "a\\"b", "n": 1', `"client_secret" : ${REDACTED}, "n": 1`],
    ['ID_TOKEN=abc def', `ID_TOKEN=${REDACTED} def`],
    ['password: hunter22}', `password: ${REDACTED}}`],
    ['client_assertion=a.b.c&assertion=d.e.f', `client_assertion=${REDACTED}&assertion=${REDACTED}`],
  ])('%s → %s', (text, shown) => {
    expect(redact(text)).toBe(shown);
  });
});

describe('createRedactor: overlaps', () => {
  const redact = createRedactor([SECRET]);

  it('every 8 characters in a row of every spelling, alone or inside other text', () => {
    for (const [, spelled] of SPELLINGS) {
      for (const window of windows(spelled)) {
        expect([window, redact.overlaps(window)]).toEqual([window, true]);
        expect([window, redact.overlaps(`ab ${window} cd`)]).toEqual([window, true]);
      }
    }
  });

  it('the last 8 characters of a secret, alone and at the end of a text', () => {
    const long = createRedactor(['Wq7kestrelHarbour']);
    expect(long.overlaps('elHarbou')).toBe(true);
    expect(long.overlaps('lHarbour')).toBe(true);
    expect(long.overlaps('see: lHarbour')).toBe(true);
    expect(long.overlaps('lHarbou')).toBe(false);
    expect(long.overlaps('see lHarbou and Wq7kest.')).toBe(false);
  });

  it('7 characters in a row are not an overlap', () => {
    // "#" is in no spelling, so it cannot complete a window.
    for (const [, spelled] of SPELLINGS) {
      const pieces = Array.from({ length: spelled.length - WINDOW + 2 }, (_, i) =>
        spelled.slice(i, i + WINDOW - 1),
      );
      for (const piece of pieces)
        expect([piece, redact.overlaps(`#${piece}#${piece}#`)]).toEqual([piece, false]);
    }
  });

  it('a secret shorter than 8 characters overlaps wherever it appears whole', () => {
    const short = createRedactor(['hunt3r']);
    expect(short.overlaps('you sent hunt3r, no')).toBe(true);
    expect(short.overlaps('hunt3r!!')).toBe(true);
    expect(short.overlaps('hunt3r')).toBe(true);
    expect(short.overlaps('hunt3')).toBe(false);
    expect(short.overlaps('hunt and 3r, no match')).toBe(false);
  });

  it('no secrets: nothing overlaps', () => {
    expect(createRedactor([]).overlaps('anything at all, of any length')).toBe(false);
  });

  it('a secret of 7 characters given back as a content type is not shown', () => {
    expect(describeContentType('foo/bar', createRedactor(['foo/bar']))).toBe('other');
    expect(describeContentType('foo/bar', createRedactor(['something-else']))).toBe('foo/bar');
  });
});

describe('createRedactor: reveals', () => {
  it('no secrets: nothing reveals one', () => {
    expect(createRedactor([]).reveals('')).toBe(false);
    expect(createRedactor([]).reveals('Ek  s3cret and anything')).toBe(false);
  });

  it('a spelling the decoders cannot undo: whitespace runs collapsed in a short secret', () => {
    // "ab  c" without its whitespace is too short to be looked for; its collapsed spelling is.
    const redact = createRedactor(['ab  c']);
    expect(redact.reveals('you sent ab c')).toBe(true);
    expect(redact('you sent ab c')).toBe(`you sent ${REDACTED}`);
    expect(redact.reveals('you sent abc')).toBe(false);
  });

  it.each([
    ['HTML decimal entities', [...SECRET].map((c) => `&#${c.codePointAt(0)};`).join('')],
    [
      'every byte percent-encoded, lower case',
      [...Buffer.from(SECRET)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    ],
    ['base64 of "client:secret"', Buffer.from(`svc:${SECRET}`).toString('base64')],
  ])('a spelling only the decoders undo (%s) reveals the secret', (_name, spelled) => {
    const redact = createRedactor([SECRET]);
    expect(redact(spelled)).toBe(spelled);
    expect(redact.reveals(`echo: ${spelled}`)).toBe(true);
  });

  it('a secret without its whitespace is found once decoded', () => {
    const redact = createRedactor([SECRET]);
    expect(redact.reveals(encodeURIComponent('Eks3cr\u00e9t"q!?>~x'))).toBe(true);
    expect(redact.reveals(encodeURIComponent('Eks3cr\u00e9t"q!?'))).toBe(false);
  });

  it('property: any secret in any of its own spellings is replaced and revealed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }), (secret) => {
        const redact = createRedactor([secret]);
        for (const spelled of [
          secret,
          encodeURIComponent(secret),
          new URLSearchParams({ s: secret }).toString().slice(2),
          JSON.stringify(secret).slice(1, -1),
          Buffer.from(secret).toString('base64url'),
        ]) {
          expect(redact.reveals(spelled)).toBe(true);
          expect(redact(spelled)).toBe(REDACTED);
        }
      }),
      { seed: FIXED_SEED, numRuns: 300 },
    );
  });
});

describe('withMoreSecrets', () => {
  const base = createRedactor(['Wq7-kestrel-base']);

  it('values that are not strings of 4 characters or more add nothing: the same redactor', () => {
    expect(withMoreSecrets(base, [])).toBe(base);
    expect(withMoreSecrets(base, [undefined, null, 42, 'abc', '', ['a', 'b', 'c', 'd'], { length: 9 }])).toBe(
      base,
    );
  });

  it('adds strings of 4 characters or more, keeps the first secrets', () => {
    const redact = withMoreSecrets(base, ['at-9f8e7d6c', 'abcd', 'xyz', 7]);
    expect(redact('a Wq7-kestrel-base b at-9f8e7d6c c abcd d xyz')).toBe(
      `a ${REDACTED} b ${REDACTED} c ${REDACTED} d xyz`,
    );
    // Both redactors replace the field's value (the second one its "[redacted" again): nothing is left.
    expect(redact('access_token=zz9')).not.toContain('zz9');
  });

  it.each([
    ['the first secret', 'Wq7-kestrel-base', true],
    ['an added one', 'at-9f8e7d6c', true],
    ['an added one, base64url', Buffer.from('at-9f8e7d6c').toString('base64url'), true],
    ['neither', 'nothing of them', false],
  ])('reveals and overlaps: %s', (_name, text, found) => {
    const redact = withMoreSecrets(base, ['at-9f8e7d6c']);
    expect(redact.reveals(`x ${text} y`)).toBe(found);
    expect(redact.overlaps(`x ${text} y`)).toBe(found);
  });
});

describe('how a run of server text is judged (sanitizeServerText, errorCodeOf)', () => {
  const none = createRedactor([]);
  const W16 = 'abcdefghijklmnop';

  it.each([
    ['punctuation is shown alone', 'retry later - or not', 'retry later - or not'],
    ['three punctuation marks in a row are pieces', 'see - - - now', `see ${REDACTED} now`],
    ['three short words in a row are pieces', 'see xy zw qv now', `see ${REDACTED} now`],
    ['two short words are not', 'see xy zw now', 'see xy zw now'],
    ['small words are not short, in any case', 'It Is On the list', 'It Is On the list'],
    ['"id is a" is a sentence', 'id is a required parameter', 'id is a required parameter'],
    ['a number of 2 digits is short', 'x y 12 errors', `${REDACTED} errors`],
    ['a number of 3 digits is not', 'x y 123 errors', 'x y 123 errors'],
    ['a number of 4 digits is not', 'x y 2024 errors', 'x y 2024 errors'],
    [
      'a compound word of 64 characters',
      `a ${W16}_${W16}_${W16}_${W16.slice(0, 13)} b`,
      `a ${W16}_${W16}_${W16}_${W16.slice(0, 13)} b`,
    ],
    ['a compound word of 65 characters', `a ${W16}_${W16}_${W16}_${W16.slice(0, 14)} b`, `a ${REDACTED} b`],
    ['a compound word with a part that is no word', 'bad client_x9z here', `bad ${REDACTED} here`],
    ['a compound word of words', 'bad client_id here', 'bad client_id here'],
    ['quotes only', 'see "" now', `see ${REDACTED} now`],
  ])('%s: %p → %p', (_name, text, shown) => {
    expect(sanitizeServerText(text, none)).toBe(shown);
  });

  it.each([
    ['invalid_client', 'invalid_client'],
    ['invalid_cl13nt', undefined],
    ['urn:ietf:params:oauth:error', 'urn:ietf:params:oauth:error'],
    ['a_b_c', undefined],
  ])('errorCodeOf(%p) → %p', (code, shown) => {
    expect(errorCodeOf(code, none)).toBe(shown);
  });
});
