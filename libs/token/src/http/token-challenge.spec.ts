import { describe, expect, it } from '@jest/globals';
import { TokenInsufficientScopeError } from '../core/token.errors.js';
import { insufficientScopeOf, isNonceChallenge } from './token-challenge.js';

const SCOPE = 'Bearer error="insufficient_scope", scope="orders:write"';

describe('insufficientScopeOf', () => {
  it.each<[number, string | string[] | null | undefined, string, boolean]>([
    [403, SCOPE, 'Bearer abc', true],
    [401, SCOPE, 'Bearer abc', true],
    [400, SCOPE, 'Bearer abc', false],
    [404, SCOPE, 'Bearer abc', false],
    [500, SCOPE, 'Bearer abc', false],
    [403, 'Bearer error="invalid_token"', 'Bearer abc', false],
    [403, 'Bearer realm="api"', 'Bearer abc', false],
    [403, undefined, 'Bearer abc', false],
    [403, null, 'Bearer abc', false],
    [403, ['Basic realm="x"', SCOPE], 'Bearer abc', true],
    // The token's own scheme first: the Bearer challenge is not about a DPoP token.
    [403, 'Bearer error="insufficient_scope", DPoP error="invalid_token"', 'DPoP abc', false],
    [403, 'Bearer error="invalid_token", DPoP error="insufficient_scope"', 'DPoP abc', true],
    [403, 'DPoP error="invalid_token", Bearer error="insufficient_scope"', 'Bearer abc', true],
    [403, 'DPoP error="insufficient_scope", Bearer error="invalid_token"', 'Bearer abc', false],
    // A custom scheme reads the Bearer/DPoP challenge.
    [403, SCOPE, 'Token abc', true],
    // An authorization header without a space has no scheme: any Bearer/DPoP challenge.
    [403, 'DPoP error="invalid_token", Bearer error="insufficient_scope"', 'DPoP', false],
  ])('%i, %j, sent %j → error %s', (status, header, authorization, isError) => {
    const error = insufficientScopeOf(status, header, authorization, 'orders', 'https://api.example');
    expect(error instanceof TokenInsufficientScopeError).toBe(isError);
    if (error) {
      expect(error).toMatchObject({ provider: 'orders', origin: 'https://api.example', status });
    }
  });

  it.each<[string | undefined, string | undefined]>([
    ['orders:write', 'orders:write'],
    ['orders:write orders:read', 'orders:write orders:read'],
    ['a!#[]~', 'a!#[]~'],
    [undefined, undefined],
    ['', undefined],
    [' orders:write', undefined],
    ['orders:write ', undefined],
    ['orders:write  orders:read', undefined],
    ['say "hi"', undefined],
    ['back\\slash', undefined],
    ['tab\there', undefined],
    ['caf\u00e9', undefined],
    ['x'.repeat(512), 'x'.repeat(512)],
    ['x'.repeat(513), undefined],
  ])('scope %j is quoted back as %j', (scope, shown) => {
    const escaped = scope?.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    const header =
      scope === undefined
        ? 'Bearer error="insufficient_scope"'
        : `Bearer error="insufficient_scope", scope="${escaped}"`;
    const error = insufficientScopeOf(403, header, 'Bearer abc', 'orders', 'https://api.example');
    expect(error?.requiredScope).toBe(shown);
  });
});

describe('isNonceChallenge', () => {
  it.each<[string | null | undefined, string, boolean]>([
    ['DPoP error="use_dpop_nonce"', 'DPoP abc', true],
    ['DPoP error="invalid_token"', 'DPoP abc', false],
    ['Bearer error="invalid_token", DPoP error="use_dpop_nonce"', 'DPoP abc', true],
    ['DPoP error="use_dpop_nonce"', 'Bearer abc', false],
    ['DPoP error="use_dpop_nonce"', 'DPoPabc', false],
    ['DPoP error="use_dpop_nonce"', 'dpop abc', false],
    [undefined, 'DPoP abc', false],
    [null, 'DPoP abc', false],
  ])('%j, sent %j → %s', (header, authorization, expected) => {
    expect(isNonceChallenge(header, authorization)).toBe(expected);
  });
});
