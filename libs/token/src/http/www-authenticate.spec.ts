import { describe, expect, it } from '@jest/globals';
import { parseWwwAuthenticate, tokenChallengeOf } from './www-authenticate.js';

describe('parseWwwAuthenticate', () => {
  it.each([
    ['Bearer', [{ scheme: 'Bearer', params: {} }]],
    [
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
      [
        {
          scheme: 'Bearer',
          params: { realm: 'example', error: 'invalid_token', error_description: 'The access token expired' },
        },
      ],
    ],
    [
      'Bearer error="insufficient_scope", scope="orders:write orders:read"',
      [{ scheme: 'Bearer', params: { error: 'insufficient_scope', scope: 'orders:write orders:read' } }],
    ],
    // Several challenges in one header, a comma inside a quoted value, an escaped quote.
    [
      'Basic realm="a, b", DPoP algs="ES256 RS256", error="use_dpop_nonce", Bearer error=invalid_token, error_description="say \\"hi\\""',
      [
        { scheme: 'Basic', params: { realm: 'a, b' } },
        { scheme: 'DPoP', params: { algs: 'ES256 RS256', error: 'use_dpop_nonce' } },
        { scheme: 'Bearer', params: { error: 'invalid_token', error_description: 'say "hi"' } },
      ],
    ],
    [
      'Negotiate abc123==, Bearer  ERROR = "invalid_token"',
      [
        { scheme: 'Negotiate', params: { '': 'abc123==' } },
        { scheme: 'Bearer', params: { error: 'invalid_token' } },
      ],
    ],
    [
      ['Basic realm="x"', 'Bearer error="invalid_token"'],
      [
        { scheme: 'Basic', params: { realm: 'x' } },
        { scheme: 'Bearer', params: { error: 'invalid_token' } },
      ],
    ],
    // A scheme alone, then a comma with or without space; a trailing comma; tabs as whitespace.
    [
      'Bearer,Basic',
      [
        { scheme: 'Bearer', params: {} },
        { scheme: 'Basic', params: {} },
      ],
    ],
    [
      'Bearer, Basic realm="x"',
      [
        { scheme: 'Bearer', params: {} },
        { scheme: 'Basic', params: { realm: 'x' } },
      ],
    ],
    ['Bearer realm="x",', [{ scheme: 'Bearer', params: { realm: 'x' } }]],
    [
      'Bearer\terror="invalid_token",\tscope=a',
      [{ scheme: 'Bearer', params: { error: 'invalid_token', scope: 'a' } }],
    ],
    ['Bearer error=', [{ scheme: 'Bearer', params: { '': 'error=' } }]], // a token68, not a parameter
    // The longest header read: 8 192 characters.
    [
      `Bearer realm="${'x'.repeat(8_192 - 15)}"`,
      [{ scheme: 'Bearer', params: { realm: 'x'.repeat(8_177) } }],
    ],
  ])('%j', (header, expected) => {
    expect(parseWwwAuthenticate(header).map((c) => ({ ...c, params: { ...c.params } }))).toEqual(expected);
  });

  it.each([
    undefined,
    null,
    '',
    'Bearer error="unterminated',
    'Bearer error="x" junk',
    '"quoted"',
    'Bearer a="1" b="2"',
    `Bearer realm="${'x'.repeat(9000)}"`,
    `Bearer realm="${'x'.repeat(8_192 - 14)}"`,
    'Bearer error="x", scope=',
  ])('nothing from %#', (header) => {
    expect(parseWwwAuthenticate(header)).toEqual([]);
  });
});

describe('tokenChallengeOf', () => {
  it.each([
    ['Bearer error="invalid_token"', 'Bearer', 'invalid_token'],
    ['Basic realm="x", Bearer error="insufficient_scope"', 'Bearer', 'insufficient_scope'],
    ['Bearer error="invalid_token", DPoP error="use_dpop_nonce"', 'DPoP', 'use_dpop_nonce'],
    ['DPoP error="invalid_token"', 'Bearer', 'invalid_token'],
    ['Bearer realm="api"', 'Bearer', undefined],
    ['Basic error="x"', 'Bearer', undefined],
    // Only a challenge with an error counts: the Bearer one without is passed over.
    ['Bearer realm="api", DPoP error="invalid_token"', 'Bearer', 'invalid_token'],
    ['DPoP realm="api", Bearer error="invalid_token"', 'DPoP', 'invalid_token'],
  ])('%j for %s → %s', (header, scheme, error) => {
    expect(tokenChallengeOf(header, scheme)?.params.error).toBe(error);
  });
});
