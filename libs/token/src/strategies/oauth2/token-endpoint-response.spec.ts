import { describe, expect, it } from '@jest/globals';
import { UnsecuredJWT } from 'jose';
import { TokenEndpointError, TokenRequestError, TokenResponseError } from '../../core/token.errors.js';
import { createRedactor } from './token-endpoint-redaction.js';
import { isJsonMediaType, parseTokenEndpointResponse } from './token-endpoint-response.js';

const SECRET = 'Sx-4f9c1e-DISTINCTIVE-client-secret';
const NOW = 1_700_000_000_000;
const JSON_CT = 'application/json; charset=utf-8';
const options = { receivedAt: NOW, defaultExpiresInSeconds: 3600, redact: createRedactor([SECRET]) };

const parse = (status: number, body: unknown, contentType = JSON_CT) =>
  parseTokenEndpointResponse(
    { status, contentType, body: typeof body === 'string' ? body : JSON.stringify(body) },
    options,
  );

const jwtWithExp = (exp: number) => new UnsecuredJWT({ sub: 'svc' }).setExpirationTime(exp).encode();

describe('parseTokenEndpointResponse: §5.1 success', () => {
  it('reads access_token, token_type, expires_in and puts the rest into extra', () => {
    const info = parse(200, {
      access_token: 'at-1',
      token_type: 'Bearer',
      expires_in: 120,
      scope: 'read write',
      refresh_token: 'rt-1',
      x_custom: { a: 1 },
    });
    expect(info.token).toBe('at-1');
    expect(info.tokenType).toBe('Bearer');
    expect(info.issuedAt).toBe(NOW);
    expect(info.expiresAt).toBe(NOW + 120_000);
    expect(info.extra).toEqual({ scope: 'read write', refresh_token: 'rt-1', x_custom: { a: 1 } });
  });

  it.each([
    ['bearer', 'Bearer'],
    ['BEARER', 'Bearer'],
    [undefined, 'Bearer'],
    [null, 'Bearer'],
  ])('token_type %p → %p', (tokenType, expected) => {
    expect(parse(200, { access_token: 'at', token_type: tokenType, expires_in: 1 }).tokenType).toBe(expected);
  });

  it('a token_type other than Bearer is used only when the provider allows it (RFC 6749 §7.1)', () => {
    const body = JSON.stringify({ access_token: 'at', token_type: 'DPoP', expires_in: 1 });
    expect(() => parse(200, body)).toThrow(TokenResponseError);
    const allowed = parseTokenEndpointResponse(
      { status: 200, contentType: JSON_CT, body },
      { ...options, allowedTokenTypes: ['DPoP'] },
    );
    expect(allowed.tokenType).toBe('DPoP');
  });

  it.each([
    [60, NOW + 60_000],
    ['60', NOW + 60_000],
    [' 60 ', NOW + 60_000],
    [0, NOW],
    [1.5, NOW + 1500],
    ['86400', NOW + 86_400_000],
  ])('expires_in %p → expiresAt %p', (expiresIn, expected) => {
    expect(parse(200, { access_token: 'at', expires_in: expiresIn }).expiresAt).toBe(expected);
  });

  it("falls back to the JWT's own exp, then to the default", () => {
    const exp = NOW / 1000 + 900;
    expect(parse(200, { access_token: jwtWithExp(exp) }).expiresAt).toBe(exp * 1000);
    expect(parse(200, { access_token: jwtWithExp(exp), expires_in: 10 }).expiresAt).toBe(NOW + 10_000);
    expect(parse(200, { access_token: 'opaque' }).expiresAt).toBe(NOW + 3_600_000);
    expect(parse(200, { access_token: 'a.b.c' }).expiresAt).toBe(NOW + 3_600_000);
    expect(parse(200, { access_token: new UnsecuredJWT({ sub: 'x' }).encode() }).expiresAt).toBe(
      NOW + 3_600_000,
    );
    expect(parse(200, { access_token: 'at', expires_in: null }).expiresAt).toBe(NOW + 3_600_000);
  });

  it.each([
    'application/json',
    'Application/JSON',
    'application/json;charset=UTF-8',
    'application/token+json',
  ])('accepts content-type %p', (ct) => {
    expect(isJsonMediaType(ct)).toBe(true);
    expect(parse(200, { access_token: 'at' }, ct).token).toBe('at');
  });

  it('keeps a __proto__ field as data, never as a prototype', () => {
    const info = parse(200, '{"access_token":"at","__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(info.extra)).toBe(Object.prototype);
    expect(Object.keys(info.extra)).toEqual(['__proto__']);
  });
});

describe('parseTokenEndpointResponse: each odd answer gives the right typed error', () => {
  type Case = [
    label: string,
    status: number,
    body: unknown,
    contentType: string | undefined,
    errorClass: abstract new (...args: never[]) => Error,
    message: RegExp,
  ];
  const cases: Case[] = [
    [
      '§5.2 400 invalid_client',
      400,
      { error: 'invalid_client', error_description: 'bad client' },
      JSON_CT,
      TokenEndpointError,
      /returned 400 invalid_client: bad client/,
    ],
    [
      '401 with WWW-Authenticate body',
      401,
      { error: 'invalid_client' },
      JSON_CT,
      TokenEndpointError,
      /returned 401 invalid_client/,
    ],
    // Issue 18 row 6: no `error` code → the body's kind and size (was /returned 500$/).
    [
      '500 HTML page',
      500,
      '<html>oops</html>',
      'text/html',
      TokenEndpointError,
      /returned 500 \(HTML, 17 B\)$/,
    ],
    ['503 empty body', 503, '', '', TokenEndpointError, /returned 503/],
    ['429 non-object JSON', 429, '[1,2]', JSON_CT, TokenEndpointError, /returned 429/],
    // Issue 18 row 6: no usable `error` code → the body's kind and size (was /returned 400$/).
    [
      '400 error that is not a string',
      400,
      { error: 42 },
      JSON_CT,
      TokenEndpointError,
      /returned 400 \(JSON, 12 B\)$/,
    ],
    [
      '200 with an error field',
      200,
      { error: 'invalid_scope', error_description: 'nope' },
      JSON_CT,
      TokenEndpointError,
      /returned 200 invalid_scope: nope/,
    ],
    [
      '200 with an error and a token',
      200,
      { error: 'server_error', access_token: 'at' },
      JSON_CT,
      TokenEndpointError,
      /returned 200 server_error/,
    ],
    [
      '200 with a malformed error field',
      200,
      { error: { code: 1 }, access_token: 'at' },
      JSON_CT,
      TokenResponseError,
      /malformed "error"/,
    ],
    ['302 redirect', 302, '', 'text/html', TokenRequestError, /redirect/],
    ['304', 304, '', '', TokenRequestError, /redirect/],
    [
      '200 HTML',
      200,
      '<html>login</html>',
      'text/html; charset=utf-8',
      TokenResponseError,
      /content-type "text\/html; charset=utf-8"/,
    ],
    ['200 no content-type', 200, { access_token: 'at' }, '', TokenResponseError, /content-type "none"/],
    [
      '200 form-encoded (GitHub default)',
      200,
      'access_token=at&token_type=bearer',
      'application/x-www-form-urlencoded',
      TokenResponseError,
      /expected application\/json/,
    ],
    ['200 not JSON', 200, '{"access_token": "at"', JSON_CT, TokenResponseError, /not a JSON object/],
    ['200 JSON array', 200, [{ access_token: 'at' }], JSON_CT, TokenResponseError, /not a JSON object/],
    ['200 JSON null', 200, 'null', JSON_CT, TokenResponseError, /not a JSON object/],
    ['200 JSON string', 200, '"at"', JSON_CT, TokenResponseError, /not a JSON object/],
    ['200 empty body', 200, '', JSON_CT, TokenResponseError, /not a JSON object/],
    ['204 no content', 204, '', JSON_CT, TokenResponseError, /not a JSON object/],
    ['missing access_token', 200, { token_type: 'Bearer' }, JSON_CT, TokenResponseError, /no "access_token"/],
    ['empty access_token', 200, { access_token: '' }, JSON_CT, TokenResponseError, /no "access_token"/],
    ['numeric access_token', 200, { access_token: 12345 }, JSON_CT, TokenResponseError, /no "access_token"/],
    [
      'access_token with a newline',
      200,
      { access_token: 'at\r\nX-Evil: 1' },
      JSON_CT,
      TokenResponseError,
      /printable ASCII/,
    ],
    [
      'negative expires_in',
      200,
      { access_token: 'at', expires_in: -1 },
      JSON_CT,
      TokenResponseError,
      /"expires_in"/,
    ],
    [
      'negative expires_in string',
      200,
      { access_token: 'at', expires_in: '-5' },
      JSON_CT,
      TokenResponseError,
      /"expires_in"/,
    ],
    [
      'NaN expires_in string',
      200,
      { access_token: 'at', expires_in: 'NaN' },
      JSON_CT,
      TokenResponseError,
      /"expires_in"/,
    ],
    [
      'word expires_in',
      200,
      { access_token: 'at', expires_in: 'soon' },
      JSON_CT,
      TokenResponseError,
      /"expires_in"/,
    ],
    [
      'boolean expires_in',
      200,
      { access_token: 'at', expires_in: true },
      JSON_CT,
      TokenResponseError,
      /"expires_in"/,
    ],
    [
      'huge expires_in',
      200,
      '{"access_token":"at","expires_in":1e400}',
      JSON_CT,
      TokenResponseError,
      /"expires_in"/,
    ],
    [
      'token_type with a space',
      200,
      { access_token: 'at', token_type: 'Bearer x' },
      JSON_CT,
      TokenResponseError,
      /"token_type"/,
    ],
    [
      'token_type not a string',
      200,
      { access_token: 'at', token_type: 1 },
      JSON_CT,
      TokenResponseError,
      /"token_type"/,
    ],
  ];

  it.each(cases)('%s', (_label, status, body, contentType, errorClass, message) => {
    let thrown: unknown;
    try {
      parse(status, body, contentType);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(errorClass);
    expect((thrown as Error).message).toMatch(message);
  });

  // Issue 19 item 1: the body's text is kept nowhere, its kind and size instead (the test asserted
  // a snippet holding the body's text: `toContain('error_uri')`).
  it('carries the §5.2 fields and the body as its kind and size', () => {
    const error = catchError(() =>
      parse(400, { error: 'invalid_grant', error_description: 'expired', error_uri: 'https://x' }),
    );
    expect(error).toMatchObject({
      status: 400,
      error: 'invalid_grant',
      errorDescription: 'expired',
      code: 'TOKEN_ENDPOINT_ERROR',
    });
    expect((error as TokenEndpointError).body).toBe('JSON, 79 B');
    const long = catchError(() => parse(500, 'x'.repeat(10_000), 'text/plain')) as TokenEndpointError;
    expect(long.body).toBe('text, 10.0 kB');
  });
});

describe('parseTokenEndpointResponse: no secret or token in any error', () => {
  const leakyBodies: Array<[number, unknown, string]> = [
    [400, { error: 'invalid_client', error_description: `secret ${SECRET} is wrong` }, JSON_CT],
    [401, `client_secret=${encodeURIComponent(SECRET)}&client_id=svc`, 'text/plain'],
    [500, `<pre>Authorization: Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}</pre>`, 'text/html'],
    [400, { error: SECRET }, JSON_CT],
    [
      400,
      { error: 'invalid_request', access_token: 'AT-LEAKED-VALUE', refresh_token: 'RT-LEAKED-VALUE' },
      JSON_CT,
    ],
    [200, { error: 'server_error', access_token: 'AT-LEAKED-VALUE' }, JSON_CT],
    [200, `{"access_token":"AT-LEAKED-VALUE"}`, `text/${SECRET}`],
    [200, { access_token: 'AT-LEAKED-VALUE', expires_in: SECRET }, JSON_CT],
    [
      400,
      { error: 'invalid', error_description: `line1\n${SECRET.slice(0, 10)}\r\n${SECRET.slice(10)}` },
      JSON_CT,
    ],
    [400, { error_description: `${'x'.repeat(300)}${SECRET}` }, JSON_CT],
  ];

  it.each(leakyBodies)('status %p body %p', (status, body, contentType) => {
    const error = catchError(() => parse(status, body, contentType));
    expect(error).toBeInstanceOf(Error);
    for (const text of renderings(error)) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('AT-LEAKED-VALUE');
      expect(text).not.toContain('RT-LEAKED-VALUE');
      expect(text).not.toMatch(/[\r\n]X/);
    }
  });
});

describe('parseTokenEndpointResponse: a secret in any common encoding is redacted', () => {
  const special = 'p~ss w(o)rd!*+/:é"\\';
  const redact = createRedactor([special]);
  it.each([
    ['raw', special],
    ['percent-encoded', encodeURIComponent(special)],
    ['form-encoded', new URLSearchParams({ s: special }).toString().slice(2)],
    ['JSON-escaped', JSON.stringify(special).slice(1, -1)],
  ])('%s', (_label, encoded) => {
    const body = `{"error":"invalid_request","error_description":"got ${encoded.replace(/[\\"]/g, '\\$&')}"} raw: ${encoded}`;
    const error = catchError(() =>
      parseTokenEndpointResponse({ status: 400, contentType: 'text/plain', body }, { ...options, redact }),
    );
    for (const text of renderings(error)) expect(text).not.toContain(encoded);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

/** Every way an error ends up in a log. */
function renderings(error: unknown): string[] {
  const e = error as Error;
  return [e.message, String(e), e.stack ?? '', JSON.stringify(e), JSON.stringify({ ...e })];
}
