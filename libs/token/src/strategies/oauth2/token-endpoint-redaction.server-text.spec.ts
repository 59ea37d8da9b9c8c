/**
 * What of a token endpoint's own text reaches an error, checked to the character on small examples:
 * which runs of an `error_description` are shown and which become `[redacted]`, where the text is
 * cut, which windows of a sent secret hide which words, which `error` codes pass (RFC 6749 NQSCHAR,
 * 48 characters at most), how a body is described (kind and size, never its text), and which part
 * of a `Content-Type` is shown (the media type when it reads as words, a known charset only).
 */
import { describe, expect, it } from '@jest/globals';
import {
  createRedactor,
  describeBody,
  describeContentType,
  errorCodeOf,
  MAX_SNIPPET_CHARS,
  REDACTED,
  sanitizeServerText,
  withMoreSecrets,
} from './token-endpoint-redaction.js';

const R = REDACTED;
/** A redactor for a request that sent no secret: only the word rules apply. */
const none = createRedactor([]);
/** A secret with spaces: its 8-character windows cross words ("zephyr q", "r quokka"). */
const SPACED = 'Qz7 zephyr quokka';
const spaced = createRedactor([SPACED]);
/** A secret whose second word alone holds windows ("flabberg"). */
const WORDY = 'Wx4 flabbergast';
const wordy = createRedactor([WORDY]);

describe('sanitizeServerText: which runs of server text are shown', () => {
  it.each<[string, string, string]>([
    ['plain prose', 'unknown client', 'unknown client'],
    [
      'invisible characters are dropped before judging',
      'the\u200bclient is un\u00adknown',
      'theclient is unknown',
    ],
    ['control characters become spaces', 'unknown\nclient\tid', 'unknown client id'],
    ['a number last', 'retry in 30', 'retry in 30'],
    ['two numbers in a row spell bytes', 'code 12 34 failed', `code ${R} failed`],
    ['a number then a word', 'error 42 occurred', 'error 42 occurred'],
    ['three short pieces from the start', 'a b c', R],
    ['three short pieces later on', 'letters a b c here', `letters ${R} here`],
    ['two short pieces pass', 'ok ok fine', 'ok ok fine'],
    ['a word that starts short', 'ok fine', 'ok fine'],
    ['redacted runs in a row are shown once', 'x1 y2 z3 unknown', `${R} unknown`],
    ['redacted runs apart are shown apart', 'x1 unknown y2', `${R} unknown ${R}`],
  ])('%s: %p → %p', (_name, text, shown) => {
    expect(sanitizeServerText(text, none)).toBe(shown);
  });
});

describe('sanitizeServerText: the limit on what is shown', () => {
  it.each<[string, number, string]>([
    // Each run counts its length and one space: "abc def" needs 8.
    ['abc def', 8, 'abc def'],
    ['abc def', 7, 'abc …'],
    ['abc def ghi', 8, 'abc def …'],
    ['abcdefgh more', 4, ' …'],
    // The run that does not fit is not shown but still judged: a number next to a number.
    ['1 2345', 4, `${R} …`],
    // A run longer than the whole room is never judged: not a number, not a short piece.
    ['1 2345', 3, '1 …'],
    ['ok ok aaaaaaaaaaaaaaaaaaaa', 10, 'ok ok …'],
    // A short run that fits completes three short pieces in a row.
    ['ok ok ab cdef', 10, `${R} …`],
  ])('%p within %d → %p', (text, maxChars, shown) => {
    expect(sanitizeServerText(text, none, maxChars)).toBe(shown);
  });

  it(`keeps ${MAX_SNIPPET_CHARS} characters by default, in whole words, then "…"`, () => {
    expect(MAX_SNIPPET_CHARS).toBe(512);
    // "word " is 5: 102 of them fill 510, the 103rd would reach 515.
    const shown = sanitizeServerText('word '.repeat(200), none);
    expect(shown).toBe(`${Array(102).fill('word').join(' ')} …`);
    expect(sanitizeServerText('word '.repeat(102), none)).toBe(Array(102).fill('word').join(' '));
  });
});

describe('sanitizeServerText: no 8 characters in a row of a sent secret', () => {
  it.each<[string, string, string]>([
    ['the whole secret', `bad ${SPACED} given`, `bad ${R} given`],
    ['a window across two words', 'alpha zephyr quokka omega', `alpha ${R} omega`],
    ['a window across two words at the start', 'zephyr quokka omega', `${R} omega`],
    ['a window after four other words', 'one two three four zephyr quokka', `one two three four ${R}`],
    ['only the words the window needs', 'zephyr zephyr quokka', `zephyr ${R}`],
    ['a window through a redacted run is not looked for', 'Qz7 zephyr omega', `${R} zephyr omega`],
    ['nor one across a redacted run', 'omega zephyr q9x', `omega zephyr ${R}`],
    ['words alone that hold no window', 'zephyr omega quokka', 'zephyr omega quokka'],
  ])('%s: %p → %p', (_name, text, shown) => {
    expect(sanitizeServerText(text, spaced)).toBe(shown);
  });

  it.each<[string, string, string]>([
    ['a single word', 'so flabbergasted today', `so ${R} today`],
    [
      'the same word again 9 runs later',
      `flabbergasted ${Array(8).fill('well').join(' ')} flabbergasted`,
      `${R} ${Array(8).fill('well').join(' ')} ${R}`,
    ],
    [
      'the same word again 10 runs later',
      `flabbergasted ${Array(9).fill('well').join(' ')} flabbergasted`,
      `${R} ${Array(9).fill('well').join(' ')} ${R}`,
    ],
  ])('%s: %p → %p', (_name, text, shown) => {
    expect(sanitizeServerText(text, wordy)).toBe(shown);
  });

  it('a window whose words both appear again further on is hidden in both places', () => {
    const text = `zephyr quokka ${Array(8).fill('well').join(' ')} zephyr quokka`;
    expect(sanitizeServerText(text, spaced)).toBe(`${R} ${Array(8).fill('well').join(' ')} ${R}`);
  });

  it('the whole secret in a spelling the request used, or spelled out one character at a time', () => {
    const spelledOut = Buffer.from(SPACED).toString('base64').split('').join(' ');
    expect(sanitizeServerText(`echo ${spelledOut}`, spaced)).toBe(`echo ${R}`);
    expect(sanitizeServerText(`echo ${encodeURIComponent(SPACED)} end`, spaced)).toBe(`echo ${R} end`);
  });
});

describe('errorCodeOf: the RFC 6749 `error` code, or nothing', () => {
  const length48 = 'abcdefghijklmno_abcdefghijklmno_abcdefghijklmnop';
  const length49 = 'abcdefghijklmno_abcdefghijklmnop_abcdefghijklmnop';
  it.each<[string, unknown, string | undefined]>([
    ['a code', 'invalid_client', 'invalid_client'],
    ['a code with a dot', 'invalid.client', 'invalid.client'],
    ['a code with hyphens', 'use-dpop-nonce', 'use-dpop-nonce'],
    ['48 characters', length48, length48],
    ['49 characters', length49, undefined],
    ['empty', '', undefined],
    ['not a string', 42, undefined],
    ['letters outside NQSCHAR', 'invalid_cliént', undefined],
    ['a quote', 'invalid"client', undefined],
    ['a digit first', '1nvalid', undefined],
    ['an underscore first', '_invalid', undefined],
    ['dotted letters, one at a time', 'a.b.c', undefined],
    [
      'dotted parts longer than a word',
      'abcdefghijklmnop.abcdefghijklmnop',
      'abcdefghijklmnop.abcdefghijklmnop',
    ],
    ['letters and digits', 'err0r', undefined],
  ])('%s: %p → %p', (_name, value, code) => {
    expect(errorCodeOf(value, none)).toBe(code);
  });

  it('never a code that repeats a part of a sent secret', () => {
    expect(errorCodeOf('flabbergasted', wordy)).toBeUndefined();
    expect(errorCodeOf('flabbergasted', none)).toBe('flabbergasted');
  });
});

describe('describeBody: kind and size, never the text', () => {
  it.each<[string, string, string]>([
    ['', 'text/html', 'no body'],
    // HTML by its type, whatever the body
    ['Oops', 'text/html', 'HTML, 4 B'],
    ['Oops', 'Text/HTML; charset=utf-8', 'HTML, 4 B'],
    ['Oops', ' text/html ;charset=utf-8', 'HTML, 4 B'],
    ['Oops', 'application/xhtml+xml', 'HTML, 4 B'],
    // HTML by its first tag, whatever the type
    ['<html><body>x</body></html>', '', 'HTML, 27 B'],
    ['  \n<HTML>', 'text/plain', 'HTML, 9 B'],
    ['<!DOCTYPE html><p>', 'application/json', 'HTML, 18 B'],
    ['<!doctype  html>', '', 'HTML, 16 B'],
    ['see <html>', 'text/plain', 'text, 10 B'],
    ['<htmlx>', '', 'text, 7 B'],
    // JSON by its type, or by a body that parses
    ['Oops', 'application/json', 'JSON, 4 B'],
    ['Oops', 'application/problem+json', 'JSON, 4 B'],
    ['{"a":1}', 'text/plain', 'JSON, 7 B'],
    ['{"a":', 'text/plain', 'text, 5 B'],
    // XML by its type, or by a declaration first
    ['Oops', 'application/xml', 'XML, 4 B'],
    ['Oops', 'text/xml', 'XML, 4 B'],
    ['Oops', 'application/atom+xml', 'XML, 4 B'],
    ['<?xml version="1.0"?><a/>', '', 'XML, 25 B'],
    [' \t<?xml version="1.0"?>', 'text/plain', 'XML, 23 B'],
    ['x <?xml', 'text/plain', 'text, 7 B'],
    // text otherwise
    ['Bad Gateway.', 'text/plain', 'text, 12 B'],
    ['Oops', 'application/xmlish', 'text, 4 B'],
  ])('%p as %p → %p', (body, contentType, shown) => {
    expect(describeBody(body, contentType)).toBe(shown);
  });

  it.each<[number, string]>([
    [1, '1 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [2100, '2.1 kB'],
    [999_949, '999.9 kB'],
    [1_000_000, '1.0 MB'],
    [2_540_000, '2.5 MB'],
  ])('%d bytes → %p', (bytes, size) => {
    expect(describeBody('x'.repeat(bytes), 'text/plain')).toBe(`text, ${size}`);
  });

  it('counts bytes, not characters', () => {
    expect(describeBody('é'.repeat(500), 'text/plain')).toBe('text, 1.0 kB');
  });
});

describe('describeContentType: the media type when it reads as words, a known charset only', () => {
  it.each<[string, string]>([
    ['', 'none'],
    ['   ', 'none'],
    ['text/html', 'text/html'],
    ['application/problem+json', 'application/problem+json'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['application/vnd.acme.token.error+json', 'application/vnd.acme.token.error+json'],
    ['application/vnd.acme.token.error.detail+json', 'other'],
    ['text/html/xml', 'other'],
    ['not a type', 'other'],
    ['text/x1', 'other'],
    ['x1/html', 'other'],
    ['text/html; charset=utf-8', 'text/html; charset=utf-8'],
    ['text/html;charset="ISO-8859-1"', 'text/html; charset=ISO-8859-1'],
    ['text/html; Charset = UTF-8', 'text/html; charset=UTF-8'],
    ['text/html; charset=koi8-r', 'text/html'],
    ['text/html; boundary=x; charset=latin1', 'text/html; charset=latin1'],
    ['text/html; boundary=x', 'text/html'],
    ['text/html; xcharset=utf-8', 'text/html'],
    ['text/html; charset=utf-8 evil', 'text/html'],
    ['text/html; charset=koi8-r; charset=utf8', 'text/html; charset=utf8'],
  ])('%p → %p', (contentType, shown) => {
    expect(describeContentType(contentType, none)).toBe(shown);
  });

  it('hides a media type that repeats a part of a sent secret', () => {
    expect(describeContentType('text/flabbergasted; charset=utf-8', wordy)).toBe('other');
    expect(describeContentType('text/flabbergasted; charset=utf-8', none)).toBe(
      'text/flabbergasted; charset=utf-8',
    );
  });
});

describe('abbreviations and fields already redacted', () => {
  it.each([
    ['see e.g. the docs', 'see e.g. the docs'],
    ['scope missing (i.e., none was sent)', 'scope missing (i.e., none was sent)'],
    ['only for the U.S.A.', 'only for the U.S.A.'],
  ])('%j shows its abbreviation', (text, shown) => {
    expect(sanitizeServerText(text, createRedactor([]))).toBe(shown);
  });

  it('a credential field hidden once is not hidden again by a redactor with more secrets', () => {
    const redact = withMoreSecrets(createRedactor(['s3cr3t-value']), ['zz9-token']);
    expect(redact('access_token=zz9 and client_secret: "s3cr3t-value"')).toBe(
      'access_token=[redacted] and client_secret: [redacted]',
    );
  });
});
