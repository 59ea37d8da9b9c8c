/**
 * The decoder behind the redactor's `reveals`: how a piece of server text reads once its HTML
 * entities, JSON escapes, percent- and form-encoding, line breaks and base64 runs are undone, alone
 * and chained up to 3 steps, with bounds on the views and on the base64 decoded. Inputs are chosen
 * so that the other decoders leave them alone, which lets most cases pin the exact list of views.
 */
import { describe, expect, it } from '@jest/globals';
import { decodedViews, secretForms } from './token-endpoint-decoding.js';

/** Node's own decoding of a base64 run from one alignment, as UTF-8. */
const fromBase64 = (run: string, offset = 0) => Buffer.from(run.slice(offset), 'base64').toString('utf8');

describe('decodedViews: HTML character references', () => {
  it('decodes decimal, hex (either x), named (either case) references, with or without a semicolon', () => {
    const text = '&#65;&#x42;&#X43;&amp;&AMP;&lt';
    expect(decodedViews(text)).toEqual([text, 'ABC&&<']);
  });

  it('reads up to 7 decimal and 6 hex digits, and a name of up to 8 letters', () => {
    expect(decodedViews('&#0000065;')[1]).toBe('A');
    expect(decodedViews('&#x00004a;')[1]).toBe('J');
    expect(decodedViews('&percnt;&lowbar;')[1]).toBe('%_');
  });

  it('decodes the lowest and the highest code point', () => {
    expect(decodedViews('&#0;')).toEqual(['&#0;', '\u0000']);
    expect(decodedViews('&#1114111;')[1]).toBe('\u{10ffff}');
    expect(decodedViews('&#x10ffff;')[1]).toBe('\u{10ffff}');
  });

  it('leaves a reference beyond U+10FFFF as it is (only its digits are then read as base64)', () => {
    // The digit run is base64 alphabet: the second view is its base64 reading, nothing HTML made.
    expect(decodedViews('&#1114112;')[1]).toBe(decodedViews('1114112')[1]);
    expect(decodedViews('&#x110000;')[1]).toBe(decodedViews('x110000')[1]);
  });

  it('leaves an unknown name as it is', () => {
    expect(decodedViews('&zz;&qq;')).toEqual(['&zz;&qq;']);
  });
});

describe('decodedViews: JSON escapes', () => {
  it('decodes \\uXXXX, \\/ and \\"', () => {
    const text = '\\u0041\\u00e9\\/\\"';
    expect(decodedViews(text)).toEqual([text, 'Aé/"']);
  });

  it('decodes \\b \\f \\n \\r \\t to their control characters', () => {
    expect(decodedViews('x\\by\\fz\\nw\\rv\\tu')[1]).toBe('x\by\fz\nw\rv\tu');
  });
});

describe('decodedViews: percent- and form-encoding', () => {
  it('decodes a run of percent-encoded UTF-8 bytes, in either case, as one character', () => {
    expect(decodedViews('%C3%A9')).toEqual(['%C3%A9', 'é']);
    expect(decodedViews('%c3%a9')).toEqual(['%c3%a9', 'é']);
    expect(decodedViews('%41')).toEqual(['%41', 'A']);
  });

  it('reads a run that is not valid UTF-8 byte by byte, as Latin-1', () => {
    expect(decodedViews('%FF%41')).toEqual(['%FF%41', 'ÿA']);
  });

  it('reads "+" as a space in form encoding, and then without the space', () => {
    expect(decodedViews('a+b')).toEqual(['a+b', 'a b', 'ab']);
  });
});

describe('decodedViews: line breaks', () => {
  it('joins a value split across lines and indented', () => {
    expect(decodedViews('ab\r\n  cd')).toEqual(['ab\r\n  cd', 'abcd']);
  });
});

describe('decodedViews: base64 and base64url runs', () => {
  it('decodes a 6-character run (padding dropped) from its start only', () => {
    expect(decodedViews('YWJjZA==')).toEqual(['YWJjZA==', 'abcd']);
  });

  it('decodes a 7-character run from its start and from one character in', () => {
    expect(decodedViews('YWJjZGU=')[1]).toBe(['abcde', fromBase64('WJjZGU')].join('\n'));
  });

  it('decodes a longer run from all 4 alignments, one line each', () => {
    const run = 'YWJjZGVmZ2g'; // "abcdefgh"
    expect(decodedViews(`${run}=`)[1]).toBe([0, 1, 2, 3].map((offset) => fromBase64(run, offset)).join('\n'));
    expect(fromBase64(run)).toBe('abcdefgh');
  });

  it('decodes base64url ("-" and "_") as base64 ("+" and "/")', () => {
    expect(Buffer.from('>>>???').toString('base64url')).toBe('Pj4-Pz8_');
    const standard = 'Pj4+Pz8/';
    expect(decodedViews('Pj4-Pz8_')[1]).toBe(
      ['>>>???', fromBase64(standard, 1), fromBase64(standard, 2)].join('\n'),
    );
  });

  it('finds what a 512-character run holds past a stray first character', () => {
    const content = 'zzz'.repeat(127) + 'zz'; // 383 bytes: 511 base64 characters, no "+" or "/"
    const encoded = Buffer.from(content).toString('base64');
    expect(encoded.replace(/=+$/, '')).toHaveLength(511);
    const views = decodedViews(`x${encoded}`);
    expect(views.some((view) => view.includes(content))).toBe(true);
  });

  it('reads a run longer than 512 characters from its start only', () => {
    const content = 'zzz'.repeat(127) + 'zz';
    const encoded = Buffer.from(content).toString('base64');
    const views = decodedViews(`xy${encoded}`);
    expect(views[1]).toBe(fromBase64(`xy${encoded.replace(/=+$/, '')}`));
    expect(views.some((view) => view.includes(content))).toBe(false);
  });

  it('stops decoding runs once 16 384 characters of base64 have been read', () => {
    // Three runs of 8192 characters: "AAA…", "BBB…", "CCC…" (6144 letters each); "." separates them.
    const run = (letter: string) => Buffer.from(letter.repeat(6144)).toString('base64');
    expect(run('C')).toHaveLength(8192);
    const views = decodedViews([run('A'), run('B'), run('C')].join('.'));
    expect(views[1]).toBe(`${'A'.repeat(6144)}\n${'B'.repeat(6144)}`);
    expect(views.some((view) => view.includes('CCCC'))).toBe(false);
  });
});

describe('decodedViews: chains and bounds', () => {
  it('chains up to 3 decoding steps, and no further', () => {
    const text = '&amp;amp;amp;#65;';
    expect(decodedViews(text)).toEqual([text, '&amp;amp;#65;', '&amp;#65;', '&#65;']);
    expect(decodedViews('&amp;amp;#65;')).toEqual(['&amp;amp;#65;', '&amp;#65;', '&#65;', 'A']);
  });

  it('finds "base64 of a percent-encoded JSON string"', () => {
    const plain = 'key:1/2"x y';
    const encoded = Buffer.from(encodeURIComponent(JSON.stringify(plain).slice(1, -1))).toString('base64');
    // The base64 view holds each alignment on its own line: the plain text is the first line.
    expect(decodedViews(encoded).some((view) => view.includes(plain))).toBe(true);
    expect(decodedViews(encodeURIComponent(JSON.stringify(plain).slice(1, -1)))).toContain(plain);
  });

  it('keeps the text first, and neither empty nor repeated views', () => {
    const views = decodedViews('a+b');
    expect(views[0]).toBe('a+b');
    expect(views).not.toContain('');
    expect(new Set(views).size).toBe(views.length);
    expect(decodedViews('plain')).toEqual(['plain']);
  });

  it('returns at most 48 views of a text that decodes many ways', () => {
    const text = '&amp;#x25;32%2541+\\u0026amp; Pj4-Pz8_ YWJj\nZGVm Z2hp';
    const views = decodedViews(text);
    expect(views).toHaveLength(48);
    expect(views[0]).toBe(text);
    expect(new Set(views).size).toBe(48);
  });
});

describe('secretForms', () => {
  it('is the secret alone when it has no whitespace', () => {
    expect(secretForms('abcd')).toEqual(['abcd']);
  });

  it('adds the secret without its whitespace when that leaves 4 characters or more', () => {
    expect(secretForms('ab c d')).toEqual(['ab c d', 'abcd']);
    expect(secretForms(' ab\tcd\n')).toEqual([' ab\tcd\n', 'abcd']);
  });

  it('does not add a stripped form shorter than 4 characters', () => {
    expect(secretForms('a b c')).toEqual(['a b c']);
  });
});
