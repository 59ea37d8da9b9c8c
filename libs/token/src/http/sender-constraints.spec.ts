import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ManualClock } from '../core/clock.js';
import { DpopProofSigner } from '../strategies/oauth2/dpop-proof.js';
import { TokenInfo } from '../core/token-info.js';
import { dpopRequestSigner } from './sender-constraints.js';
import { TokenService } from '../module/token.service.js';
import { StubStrategy } from '../testing-support/stub-strategy.js';

const clock = new ManualClock(1_700_000_000_000);
const info = (tokenType?: string) =>
  new TokenInfo({ token: 'at-5e1f', expiresAt: clock.now() + 60_000, tokenType });

describe('sender constraints (TokenService.senderConstraintOf, what the HTTP integration reads)', () => {
  it('keeps what a strategy declared, per service and name, until it is unregistered', () => {
    const service = new TokenService({ clock });
    const other = new TokenService({ clock });
    const constraint = { dpop: new DpopProofSigner(true, clock) };
    const declaring = (senderConstraint: unknown) => Object.assign(new StubStrategy(), { senderConstraint });
    expect(service.senderConstraintOf('api')).toBeUndefined();
    service.register('plain', new StubStrategy()); // nothing declared: nothing kept
    expect(service.senderConstraintOf('plain')).toBeUndefined();
    service.register('api', declaring(constraint));
    service.register('api2', declaring(constraint));
    expect(service.senderConstraintOf('api')).toBe(constraint);
    expect(service.senderConstraintOf('api2')).toBe(constraint);
    expect(other.senderConstraintOf('api')).toBeUndefined();
    expect(service.unregister('api')).toBe(true);
    expect(service.senderConstraintOf('api')).toBeUndefined();
    expect(service.senderConstraintOf('api2')).toBe(constraint);
    other.register('api', declaring(undefined));
    expect(other.senderConstraintOf('api')).toBeUndefined();
  });
});

describe('dpopRequestSigner', () => {
  it.each<[string, boolean, string | undefined]>([
    ['with a DPoP key and a DPoP token', true, 'DPoP'],
    ['without a DPoP key', false, 'DPoP'],
    ['for a Bearer token', true, 'Bearer'],
    ['for a token without type', true, undefined],
  ])('%s: signs proofs %s', (_case, withKey, tokenType) => {
    const constraint = withKey ? { dpop: new DpopProofSigner(true, clock) } : {};
    const signs = withKey && tokenType === 'DPoP';
    expect(dpopRequestSigner(constraint, info(tokenType)) !== undefined).toBe(signs);
    expect(dpopRequestSigner(undefined, info(tokenType))).toBeUndefined();
  });

  it('signs each hop for the token, with the nonce its origin sent', async () => {
    const signer = new DpopProofSigner(true, clock);
    const request = dpopRequestSigner({ dpop: signer }, info('DPoP'))!;
    const url = new URL('https://api.example/v1/x?q=1');
    const first = decodeJwt(await request.proof('get', url));
    expect(decodeProtectedHeader(await request.proof('get', url)).typ).toBe('dpop+jwt');
    expect(first).toMatchObject({ htm: 'GET', htu: 'https://api.example/v1/x' });
    expect(first.ath).toEqual(expect.any(String));
    expect(first.nonce).toBeUndefined();
    expect(request.askedForNonce(url, 200, 'n-1', null)).toBe(false);
    expect(decodeJwt(await request.proof('GET', url)).nonce).toBe('n-1');
  });

  it.each<[number, string | null, string | null, boolean]>([
    [401, 'n-2', 'DPoP error="use_dpop_nonce"', true],
    [401, 'n-2', 'Bearer error="invalid_token", DPoP error="use_dpop_nonce"', true],
    [401, 'n-2', 'DPoP error="invalid_token"', false],
    [401, 'n-2', null, false],
    [400, 'n-2', 'DPoP error="use_dpop_nonce"', false],
    [403, 'n-2', 'DPoP error="use_dpop_nonce"', false],
    [401, null, 'DPoP error="use_dpop_nonce"', false],
    [401, 'bad "nonce"', 'DPoP error="use_dpop_nonce"', false],
  ])('%i with DPoP-Nonce %j and %j: worth a retry %s', (status, nonce, header, retry) => {
    const signer = new DpopProofSigner(true, clock);
    const request = dpopRequestSigner({ dpop: signer }, info('DPoP'))!;
    const url = new URL('https://api.example/x');
    expect(request.askedForNonce(url, status, nonce, header)).toBe(retry);
    expect(signer.nonces.get(url.origin)).toBe(nonce === 'n-2' ? 'n-2' : undefined);
  });
});
