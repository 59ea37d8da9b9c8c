import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, exportPKCS8, generateKeyPair } from 'jose';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

let server: LoopbackServer;
let privateKey: string;
beforeAll(async () => {
  server = await startLoopbackServer();
  privateKey = await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey);
});
afterAll(() => server.close());

describe('jwtBearer with DPoP', () => {
  it('the use_dpop_nonce retry sends a new assertion (fresh jti), not the refused one again', async () => {
    let calls = 0;
    server.handle((req, res) => {
      calls++;
      if (calls === 1) {
        res.setHeader('dpop-nonce', 'nonce-1');
        return sendJson(res, 400, { error: 'use_dpop_nonce' });
      }
      return sendJson(res, 200, { access_token: 'at-1', token_type: 'DPoP', expires_in: 60 });
    });
    const info = await new OAuth2Strategy({
      tokenUrl: server.tokenUrl,
      clientId: 'sa-client',
      clientSecret: 'client-secret-zz-9191',
      dpop: true,
      jwtBearer: { privateKey, algorithm: 'ES256', issuer: 'sa', subject: 'user-42' },
    }).generate();
    expect(info.token).toBe('at-1');
    const assertions = server.requests.map((req) => req.form.get('assertion') ?? '');
    expect(assertions).toHaveLength(2);
    const [first, second] = assertions.map((assertion) => decodeJwt(assertion).jti);
    expect(first).toEqual(expect.any(String));
    expect(second).not.toBe(first);
  });
});
