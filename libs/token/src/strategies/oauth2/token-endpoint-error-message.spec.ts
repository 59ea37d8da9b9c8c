/**
 * The message a user sees when the token endpoint answers an error without an RFC 6749 `error` code
 * (an HTML error page, an empty 503): the endpoint (origin and path, never the query), the status,
 * and the body's kind and size, never its text.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LogCapture } from '../../testing-support/log-capture.js';
import { startLoopbackServer, type LoopbackServer } from '../../testing-support/oauth2-loopback-server.js';
import { TokenAcquisitionError, TokenEndpointError } from '../../core/token.errors.js';
import { TokenService } from '../../module/token.service.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

/** A 2,100-byte HTML error page, as a gateway in front of the token endpoint sends it. */
const PAGE = (() => {
  const head = '<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><pre>';
  const tail = '</pre></body></html>';
  return head + 'x'.repeat(2100 - head.length - tail.length) + tail;
})();

let server: LoopbackServer;
let answer: { status: number; contentType?: string; body: string } = { status: 500, body: '' };
const logs = new LogCapture();

beforeAll(async () => {
  server = await startLoopbackServer((_req, res) => {
    res.writeHead(answer.status, answer.contentType ? { 'content-type': answer.contentType } : {});
    res.end(answer.body);
  });
  logs.install();
});
afterAll(async () => {
  logs.restore();
  await server.close();
});

async function failureOf(tokenUrl: string): Promise<TokenAcquisitionError> {
  const service = new TokenService();
  service.register('idp', new OAuth2Strategy({ tokenUrl, clientId: 'svc', clientSecret: 'a-client-secret' }));
  const failure = await service.getToken('idp').catch((error: unknown) => error);
  await service.onApplicationShutdown();
  expect(failure).toBeInstanceOf(TokenAcquisitionError);
  return failure as TokenAcquisitionError;
}

describe('issue 18 row 6: an error page from the token endpoint', () => {
  it('an HTML 500 names the endpoint without its query, the status, and the body as "HTML, 2.1 kB"', async () => {
    answer = { status: 500, contentType: 'text/html; charset=utf-8', body: PAGE };
    expect(Buffer.byteLength(PAGE)).toBe(2100);
    const failure = await failureOf(`${server.tokenUrl}?api-version=2&code=hush#frag`);
    expect(failure.message).toBe(
      `token provider "idp": could not get a token: token endpoint ${server.origin}/token returned 500 (HTML, 2.1 kB)`,
    );
    expect(failure.cause).toBeInstanceOf(TokenEndpointError);
    expect(failure.cause).toMatchObject({
      status: 500,
      error: undefined,
      body: 'HTML, 2.1 kB',
      endpoint: `${server.origin}/token`,
    });
    expect(logs.lines.join('\n')).not.toContain('hush');
    expect(logs.lines.join('\n')).not.toContain('xxxxxxxx');
  });

  it.each([
    [503, undefined, '', `returned 503 (no body)`],
    [502, 'text/plain', 'Bad Gateway.', `returned 502 (text, 12 B)`],
    [404, 'application/json', '{"message":"Not Found"}', `returned 404 (JSON, 23 B)`],
  ])('%d %s %p → "%s"', async (status, contentType, body, shown) => {
    answer = { status, contentType, body };
    const failure = await failureOf(server.tokenUrl);
    expect((failure.cause as Error).message).toBe(`token endpoint ${server.origin}/token ${shown}`);
  });

  it('an RFC 6749 error keeps its short message', async () => {
    answer = {
      status: 400,
      contentType: 'application/json',
      body: '{"error":"invalid_client","error_description":"unknown client"}',
    };
    const failure = await failureOf(server.tokenUrl);
    expect((failure.cause as Error).message).toBe(
      'token endpoint returned 400 invalid_client: unknown client',
    );
  });
});
