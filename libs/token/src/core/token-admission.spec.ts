import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { UnsecuredJWT } from 'jose';
import { inspect } from 'node:util';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../testing-support/oauth2-loopback-server.js';
import { ManualClock } from './clock.js';
import { OAuth2Strategy } from '../strategies/oauth2/oauth2.strategy.js';
import { admitToken, MAX_TOKEN_LIFETIME_MS } from './token-admission.js';
import { TokenInfo } from './token-info.js';
import type { TokenStrategy } from './token-strategy.interface.js';
import { InvalidTokenOptionsError, TokenAcquisitionError, TokenResponseError } from './token.errors.js';
import { TokenService } from '../module/token.service.js';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

let server: LoopbackServer;
let clock: ManualClock;
beforeAll(async () => {
  server = await startLoopbackServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  clock = new ManualClock(NOW);
});

/** A service with one oauth2 provider `api` whose token endpoint answers `body`. */
function oauth2Api(body: () => Record<string, unknown>) {
  server.handle((_request, response) => sendJson(response, 200, body()));
  const service = new TokenService({ clock });
  service.register(
    'api',
    new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: 'c', clientSecret: 's' }, clock),
  );
  return service;
}

/** What a failed `getToken` threw, and everything of it a log or a caller could show. */
async function failureOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught as Error,
  );
  expect(error).toBeDefined();
  return { error: error!, shown: `${error!.message} ${inspect(error, { depth: 5 })}` };
}

describe('token endpoint boundary', () => {
  it('row 5: refuses an access_token that is not an RFC 6750 b64token ("abc def"), naming the field', async () => {
    const service = oauth2Api(() => ({ access_token: 'abc def', token_type: 'Bearer', expires_in: 3600 }));
    const { error, shown } = await failureOf(service.getAuthorizationHeader('api'));
    expect(error).toBeInstanceOf(TokenAcquisitionError);
    expect(error.cause).toBeInstanceOf(TokenResponseError);
    expect(error.message).toContain('token provider "api"');
    expect(error.message).toContain('"access_token" with characters outside RFC 6750 b64token');
    expect(shown).not.toContain('abc def');
  });

  it('row 6: keeps a JWT access token only until its own exp when expires_in says longer', async () => {
    let issued = 0;
    const service = oauth2Api(() => {
      issued++;
      const exp = Math.floor(clock.now() / 1000) + 60; // the API rejects it after a minute
      return {
        access_token: new UnsecuredJWT({ n: issued }).setExpirationTime(exp).encode(),
        expires_in: 3600,
      };
    });
    const first = await service.getToken('api');
    expect(first.expiresAt).toBe(NOW + 60_000);

    clock.advance(61_000);
    const next = await service.getToken('api');
    expect(next.token).not.toBe(first.token);
    expect(server.requests).toHaveLength(2);
  });
});

describe('custom strategy boundary', () => {
  it("row 13: refuses a custom strategy's tokenType with CR/LF ('Bearer\\r\\nX-Evil: 1'), never building the header", async () => {
    const service = new TokenService({ clock });
    service.register('custom', {
      cacheKey: 'custom',
      generate: async () =>
        new TokenInfo({ token: 'tok', tokenType: 'Bearer\r\nX-Evil: 1', expiresAt: NOW + HOUR }),
    });
    const { error, shown } = await failureOf(service.getAuthorizationHeader('custom'));
    expect(error).toBeInstanceOf(TokenAcquisitionError);
    expect(error.cause).toBeInstanceOf(TokenResponseError);
    expect(error.message).toContain('"tokenType" that is not an authorization scheme');
    expect(shown).not.toContain('X-Evil');
  });

  it('row 13: withParameters that throws fails the call with a typed error naming provider and field, not quoting it', async () => {
    const service = new TokenService({ clock });
    service.register('custom', {
      cacheKey: 'custom',
      generate: async () => new TokenInfo({ token: 'tok', expiresAt: NOW + HOUR }),
      withParameters: () => {
        throw new TypeError('cannot read "s3cr3t-value"');
      },
    });
    const { error, shown } = await failureOf(service.getToken('custom', { scope: 'read' }));
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error).toMatchObject({ provider: 'custom', field: 'withParameters' });
    expect(shown).not.toContain('s3cr3t');
  });

  it('row 13: withParameters that returns no strategy fails every call with a typed error; nothing is kept', async () => {
    const service = new TokenService({ clock });
    let calls = 0;
    service.register('custom', {
      cacheKey: 'custom',
      generate: async () => new TokenInfo({ token: 'tok', expiresAt: NOW + HOUR }),
      withParameters: () => (calls++, { cacheKey: 'custom:read' }) as unknown as TokenStrategy,
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      const { error } = await failureOf(service.getToken('custom', { scope: 'read' }));
      expect(error).toBeInstanceOf(InvalidTokenOptionsError);
      expect(error).toMatchObject({ provider: 'custom', field: 'withParameters' });
      expect(error.message).not.toContain('generate is not a function');
    }
    expect(calls).toBe(2); // asked again: no broken variant was stored
  });

  it('accepts the schemes a strategy lists in allowedTokenTypes, and only those', async () => {
    const service = new TokenService({ clock });
    let type = 'dpop';
    service.register('bound', {
      cacheKey: 'bound',
      allowedTokenTypes: ['DPoP'],
      generate: async () => new TokenInfo({ token: 'tok', tokenType: type, expiresAt: NOW + HOUR }),
    });
    expect((await service.getToken('bound')).tokenType).toBe('DPoP'); // spelled as listed
    type = 'Basic';
    await expect(service.refreshToken('bound')).rejects.toThrow(/other than "Bearer"/);
  });
});

describe('admitToken rules', () => {
  const rules = { provider: 'p' };

  it('shortens a lifetime beyond the bound from an issuer, and refuses one from a shared entry', () => {
    const far = { token: 'tok', expiresAt: 1e20 };
    expect(admitToken(far, rules, NOW, 'strategy').expiresAt).toBe(NOW + MAX_TOKEN_LIFETIME_MS);
    expect(() => admitToken(far, rules, NOW, 'store')).toThrow(/beyond the longest lifetime kept/);
  });

  it("refuses a shared entry whose expiresAt is later than its JWT's own exp", () => {
    const token = new UnsecuredJWT({}).setExpirationTime(Math.floor(NOW / 1000) + 60).encode();
    expect(() => admitToken({ token, expiresAt: NOW + HOUR }, rules, NOW, 'store')).toThrow(/own "exp"/);
    expect(admitToken({ token, expiresAt: NOW + HOUR }, rules, NOW, 'strategy').expiresAt).toBe(NOW + 60_000);
  });

  it('allows visible ASCII (space included) for a non-Bearer scheme, never a control character', () => {
    const allowed = { ...rules, allowedTokenTypes: ['MAC'] };
    expect(
      admitToken({ token: 'a b:c', tokenType: 'MAC', expiresAt: NOW + HOUR }, allowed, NOW, 'strategy').token,
    ).toBe('a b:c');
    for (const token of ['a\rb', 'a\nb', 'a\tb', 'a\u0000b', 'é']) {
      expect(() =>
        admitToken({ token, tokenType: 'MAC', expiresAt: NOW + HOUR }, allowed, NOW, 'strategy'),
      ).toThrow(TokenResponseError);
    }
  });

  it('returns the very TokenInfo when nothing needs changing (no copy per refresh)', () => {
    const info = new TokenInfo({ token: 'tok', provider: 'p', issuedAt: NOW, expiresAt: NOW + HOUR });
    expect(admitToken(info, rules, NOW, 'strategy')).toBe(info);
  });
});
