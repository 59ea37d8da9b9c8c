/**
 * The module's configuration is parsed once, at start-up: the strategies and `register` take the
 * parsed provider configuration as it is. A strategy or options built by hand are still checked.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { TokenModule } from '../module/token.module.js';
import { TokenService } from '../module/token.service.js';
import { JwtStrategy } from '../strategies/jwt.strategy.js';
import { jwtProviderSchema } from './jwt.options.js';
import { OAuth2Strategy } from '../strategies/oauth2/oauth2.strategy.js';
import { oauth2ProviderSchema } from './oauth2.options.js';
import { providerOptionsSchema } from './provider-options.schema.js';

const SECRET = 'kling-secret-key-do-not-leak-7781';
const CLIENT_SECRET = 'client-secret-zz-9191';

const providers = {
  kling: {
    type: 'jwt' as const,
    accessKey: 'ak-public',
    secretKey: SECRET,
    baseUrls: ['https://api.klingai.com'],
  },
  partner: {
    type: 'oauth2' as const,
    tokenUrl: 'https://auth.example.com/oauth/token',
    clientId: 'svc',
    clientSecret: CLIENT_SECRET,
    safetyMarginMs: 60_000,
  },
};

function spyOnParses() {
  return [jwtProviderSchema, oauth2ProviderSchema, providerOptionsSchema].map((schema) =>
    jest.spyOn(schema, 'safeParse'),
  );
}

describe('configuration validated once', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('TokenModule builds and registers its providers without parsing their configuration again', async () => {
    const spies = spyOnParses();
    const moduleRef = await Test.createTestingModule({
      imports: [TokenModule.forRoot({ providers, refresh: { enabled: false } })],
    }).compile();
    try {
      expect(moduleRef.get(TokenService).providerNames().sort()).toEqual(['kling', 'partner']);
      expect(spies.map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0]);
    } finally {
      await moduleRef.close();
    }
  });

  it('a strategy built by hand is still checked, naming the field', () => {
    const [jwtParses, oauth2Parses] = spyOnParses();
    expect(() => new JwtStrategy({ accessKey: 'ak-public', secretKey: '' })).toThrow(
      InvalidTokenOptionsError,
    );
    expect(
      () => new OAuth2Strategy({ ...providers.partner, tokenUrl: 'http://auth.example.com/token' }),
    ).toThrow(InvalidTokenOptionsError);
    expect(jwtParses).toHaveBeenCalledTimes(1);
    expect(oauth2Parses).toHaveBeenCalledTimes(1);
  });

  it('options passed to register by hand are still checked, naming the provider and the field', () => {
    const service = new TokenService();
    const strategy = new JwtStrategy({ accessKey: 'ak-public', secretKey: SECRET });
    let error: unknown;
    try {
      service.register('kling', strategy, { safetyMarginMs: -1 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ provider: 'kling', field: 'safetyMarginMs' });
    expect(service.providerNames()).toEqual([]);
  });
});
