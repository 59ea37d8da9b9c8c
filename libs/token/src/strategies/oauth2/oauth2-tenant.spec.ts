import { describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { TokenService } from '../../module/token.service.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import { rejection } from '../../testing-support/rejection.js';

const withIssuer = () =>
  new OAuth2Strategy({
    issuer: 'https://issuer.example.com',
    clientId: 'svc',
    clientSecret: 'client-secret-zz-9191',
  });

describe('per-call tenant', () => {
  it('on an issuer provider is refused naming "tenant", not turned into a variant that changes nothing', async () => {
    expect(() => withIssuer().withParameters({ tenant: 'acme' })).toThrow(InvalidTokenOptionsError);
    const tokens = new TokenService();
    tokens.register('idp', withIssuer());
    const error = await rejection(tokens.getToken('idp', { tenant: 'acme' }));
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ field: 'tenant' });
    expect(Object.keys(tokens.getStats().tokens)).toEqual(['idp']);
  });

  it('on a tokenUrl with a {tenant} placeholder still makes a variant', () => {
    const strategy = new OAuth2Strategy({
      tokenUrl: 'https://login.example.com/{tenant}/token',
      clientId: 'svc',
      clientSecret: 'client-secret-zz-9191',
    });
    expect(strategy.withParameters({ tenant: 'acme' }).cacheKey).toContain('/acme/token');
  });
});
