import { describe, expect, it } from '@jest/globals';
import { DpopNonces } from './dpop-nonces.js';

describe('DpopNonces', () => {
  it('keeps the last well-formed nonce per origin', () => {
    const nonces = new DpopNonces();
    expect(nonces.get('https://as.example')).toBeUndefined();
    expect(nonces.size).toBe(0); // asking keeps nothing
    expect(nonces.set('https://as.example', 'n-1')).toBe(true);
    expect(nonces.set('https://as.example', 'n-2')).toBe(true);
    expect(nonces.set('https://rs.example', 'r-1')).toBe(true);
    expect(nonces.get('https://as.example')).toBe('n-2');
    expect(nonces.get('https://rs.example')).toBe('r-1');
    expect(nonces.size).toBe(2);
  });

  it.each([
    ['no header', null],
    ['absent', undefined],
    ['empty', ''],
    ['a double quote', 'ab"c'],
    ['a backslash', 'ab\\c'],
    ['a space', 'a b'],
    ['a control character', 'a\nb'],
    ['non-ASCII', 'nonce-é'],
    ['longer than 512', 'x'.repeat(513)],
  ])('ignores a nonce with %s and keeps the one it had', (_case, value) => {
    const nonces = new DpopNonces();
    nonces.set('https://as.example', 'good');
    expect(nonces.set('https://as.example', value)).toBe(false);
    expect(nonces.get('https://as.example')).toBe('good');
    expect(nonces.set('https://other.example', value)).toBe(false);
    expect(nonces.size).toBe(1);
  });

  it('accepts every NQCHAR up to 512 characters', () => {
    const nonces = new DpopNonces();
    const every = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
      .filter((c) => c !== '"' && c !== '\\')
      .join('');
    expect(nonces.set('https://as.example', every)).toBe(true);
    expect(nonces.get('https://as.example')).toBe(every);
    expect(nonces.set('https://as.example', 'y'.repeat(512))).toBe(true);
  });

  it('past max origins forgets the least recently used one, reading counting as use', () => {
    const nonces = new DpopNonces(2);
    nonces.set('a', '1');
    nonces.set('b', '2');
    expect(nonces.size).toBe(2);
    expect(nonces.get('a')).toBe('1'); // a is now the most recently used
    nonces.set('c', '3');
    expect(nonces.size).toBe(2);
    expect(nonces.get('b')).toBeUndefined();
    expect(nonces.get('a')).toBe('1');
    expect(nonces.get('c')).toBe('3');
  });

  it('updating an origin makes it the most recently used', () => {
    const nonces = new DpopNonces(2);
    nonces.set('a', '1');
    nonces.set('b', '2');
    nonces.set('a', '1b');
    nonces.set('c', '3');
    expect(nonces.get('a')).toBe('1b');
    expect(nonces.get('b')).toBeUndefined();
  });

  it('keeps exactly max origins, the default being 100', () => {
    const nonces = new DpopNonces();
    for (let i = 0; i < 150; i++) nonces.set(`https://as${i}.example`, `n${i}`);
    expect(nonces.size).toBe(100);
    expect(nonces.get('https://as49.example')).toBeUndefined();
    expect(nonces.get('https://as50.example')).toBe('n50');
    expect(nonces.get('https://as149.example')).toBe('n149');
  });
});
