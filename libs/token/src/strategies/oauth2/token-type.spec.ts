import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { TokenResponseError } from '../../core/token.errors.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

// RFC 6749 §7.1: a client must not use an access token whose type it does not understand. The
// `token_type` becomes the `Authorization` scheme, so an unknown one is refused, not sent.
const SECRET = 'Tt-SECRET-canary-2f4b';

let server: LoopbackServer;
let tokenType: unknown;
beforeAll(async () => {
  server = await startLoopbackServer((_request, response) =>
    sendJson(response, 200, { access_token: 'at-type', token_type: tokenType, expires_in: 3600 }),
  );
});
afterAll(() => server.close());

const strategy = (allowedTokenTypes?: string[]) =>
  new OAuth2Strategy({
    tokenUrl: server.tokenUrl,
    clientId: 'svc',
    clientSecret: SECRET,
    useRefreshToken: false,
    ...(allowedTokenTypes ? { allowedTokenTypes } : {}),
  });

describe('token_type', () => {
  it.each(['Bearer', 'bearer', 'BEARER', 'bEaReR'])('%p is used as "Bearer"', async (type) => {
    tokenType = type;
    const info = await strategy().generate();
    expect(info.tokenType).toBe('Bearer');
    expect(info.authorizationHeader).toBe('Bearer at-type');
  });

  it.each(['Basic', 'MAC', 'DPoP', 'N_A', 'Negotiate'])(
    '%p is a TokenResponseError unless the provider allows it',
    async (type) => {
      tokenType = type;
      const failure = await strategy()
        .generate()
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(TokenResponseError);
      expect((failure as Error).message).toMatch(/"token_type".*"allowedTokenTypes"/);
    },
  );

  it('a scheme listed in allowedTokenTypes is accepted, in the configured spelling', async () => {
    tokenType = 'mac';
    const info = await strategy(['MAC']).generate();
    expect(info.tokenType).toBe('MAC');
    tokenType = 'Basic';
    await expect(strategy(['MAC']).generate()).rejects.toBeInstanceOf(TokenResponseError);
  });

  it('allowedTokenTypes must hold valid scheme names', () => {
    expect(() => strategy(['Bearer x'])).toThrow(/"allowedTokenTypes/);
  });
});
