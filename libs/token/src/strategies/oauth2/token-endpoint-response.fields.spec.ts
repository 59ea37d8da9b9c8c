import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnsecuredJWT } from 'jose';
import { ManualClock } from '../../core/clock.js';
import {
  TokenEndpointError,
  TokenEndpointRetryLaterError,
  TokenRequestError,
  TokenResponseError,
} from '../../core/token.errors.js';
import type { TokenInfo } from '../../core/token-info.js';
import {
  errorRenderings,
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { createRedactor, REDACTED } from './token-endpoint-redaction.js';
import { postTokenRequest, type TokenEndpointRawResponse } from './token-endpoint-request.js';
import {
  isJsonMediaType,
  parseTokenEndpointResponse,
  retryAfterMsOf,
  type TokenResponseParseOptions,
} from './token-endpoint-response.js';

// Exact fields of what parseTokenEndpointResponse returns or throws, for the answers an RFC 6749
// token endpoint may give: every TokenInfo field, every typed error and its fields, and never a
// token or a secret in an error.
const SECRET = 'Fx-7d21-DISTINCTIVE-client-secret';
const NOW = 1_700_000_000_000;
const JSON_CT = 'application/json; charset=utf-8';
const ENDPOINT = 'https://idp.example/token';
const clock = new ManualClock(NOW);

const optionsAt = (receivedAt: number, more: Partial<TokenResponseParseOptions> = {}) => ({
  receivedAt,
  defaultExpiresInSeconds: 3600,
  redact: createRedactor([SECRET]),
  endpoint: ENDPOINT,
  ...more,
});

const raw = (
  status: number,
  body: unknown,
  more: Partial<TokenEndpointRawResponse> = {},
): TokenEndpointRawResponse => ({
  status,
  contentType: JSON_CT,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  ...more,
});

const parse = (
  status: number,
  body: unknown,
  more: Partial<TokenEndpointRawResponse> = {},
  options: Partial<TokenResponseParseOptions> = {},
): TokenInfo => parseTokenEndpointResponse(raw(status, body, more), optionsAt(clock.now(), options));

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** The error, after checking that no rendering of it holds a secret or one of the given values. */
function cleanError(fn: () => unknown, ...hidden: string[]): Error {
  const error = thrownBy(fn);
  for (const text of errorRenderings(error)) {
    for (const value of [SECRET, ...hidden]) expect(text).not.toContain(value);
  }
  return error;
}

const bytes = (body: unknown) => Buffer.byteLength(JSON.stringify(body));

describe('parseTokenEndpointResponse: the TokenInfo of a §5.1 answer', () => {
  it('takes every field, expiry from expires_in at the time the answer came (ManualClock)', () => {
    const body = {
      access_token: 'at-fields-1',
      token_type: 'bearer',
      expires_in: '120',
      refresh_token: 'rt-fields-1',
      scope: 'read write',
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    };
    const info = parse(200, body);
    expect({
      token: info.token,
      tokenType: info.tokenType,
      issuedAt: info.issuedAt,
      expiresAt: info.expiresAt,
      provider: info.provider,
      extra: info.extra,
    }).toEqual({
      token: 'at-fields-1',
      tokenType: 'Bearer',
      issuedAt: NOW,
      expiresAt: NOW + 120_000,
      provider: '',
      extra: {
        refresh_token: 'rt-fields-1',
        scope: 'read write',
        issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      },
    });

    clock.advance(5000);
    try {
      const later = parse(200, { ...body, expires_in: 60 });
      expect([later.issuedAt, later.expiresAt]).toEqual([NOW + 5000, NOW + 65_000]);
    } finally {
      clock.set(NOW);
    }
  });

  it('any 2xx is a success: 200, 201 and 299', () => {
    for (const status of [200, 201, 299]) {
      expect(parse(status, { access_token: 'at-2xx', expires_in: 10 }).expiresAt).toBe(NOW + 10_000);
    }
  });

  it('extra holds plain data properties, like any parsed JSON object', () => {
    const info = parse(200, { access_token: 'at', scope: 'read', id_token: 'x.y.z' });
    expect(Object.getOwnPropertyDescriptor(info.extra, 'scope')).toEqual({
      value: 'read',
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const extra = info.extra as Record<string, unknown>;
    extra.scope = 'changed';
    delete extra.id_token;
    expect(extra).toEqual({ scope: 'changed' });
  });

  it("without expires_in, a JWT's own exp is the expiry, even past the default lifetime", () => {
    const exp = NOW / 1000 + 7200;
    const jwt = new UnsecuredJWT({ sub: 'svc' }).setExpirationTime(exp).encode();
    expect(parse(200, { access_token: jwt }).expiresAt).toBe(exp * 1000);
    expect(parse(200, { access_token: 'opaque' }).expiresAt).toBe(NOW + 3_600_000);
  });

  it('a null error field is no error', () => {
    expect(parse(200, { access_token: 'at-null-error', error: null }).token).toBe('at-null-error');
  });
});

describe('parseTokenEndpointResponse: a malformed field is a TokenResponseError that quotes nothing', () => {
  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['a word', 'soon'],
    ['an array holding a number', [60]],
    ['an object', { seconds: 60 }],
    ['a boolean', true],
    ['the secret', SECRET],
  ])('expires_in as %s', (_label, expiresIn) => {
    const error = cleanError(
      () => parse(200, { access_token: 'AT-FIELDS-HIDDEN', expires_in: expiresIn }),
      'AT-FIELDS-HIDDEN',
    );
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe('token endpoint response "expires_in" is not a number');
  });

  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['a number', 7],
    ['an object', { code: 'invalid_grant' }],
  ])('error as %s', (_label, value) => {
    const error = cleanError(
      () => parse(200, { access_token: 'AT-FIELDS-HIDDEN', error: value }),
      'AT-FIELDS-HIDDEN',
    );
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error).not.toBeInstanceOf(TokenEndpointError);
    expect(error.message).toBe('token endpoint answered 200 with a malformed "error" field');
  });
});

describe('isJsonMediaType', () => {
  it.each([
    'application/json',
    'application/json ; charset=utf-8',
    ' application/json',
    'APPLICATION/PROBLEM+JSON ;charset=utf-8',
    'application/vnd.api+json',
  ])('%p is JSON', (contentType) => {
    expect(isJsonMediaType(contentType)).toBe(true);
  });

  it.each([
    'xapplication/json',
    'xapplication/a+json',
    'text/application/a+json',
    'application/a+json2',
    'application/a+jsonp',
    'application/+json',
    'application/json-seq',
    'text/json',
    '',
  ])('%p is not', (contentType) => {
    expect(isJsonMediaType(contentType)).toBe(false);
  });

  it('a 200 whose content-type only ends in +json is refused, naming no secret', () => {
    const error = cleanError(() =>
      parse(200, { access_token: 'at' }, { contentType: 'application/problem+jsonp' }),
    );
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toBe(
      'token endpoint answered 200 with content-type "application/problem+jsonp", expected application/json',
    );
  });
});

describe('parseTokenEndpointResponse: the status', () => {
  it.each([300, 301, 399])('%d is a redirect, not followed', (status) => {
    const error = cleanError(() => parse(status, { error: 'invalid_request', access_token: 'AT-X' }), 'AT-X');
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error.message).toBe(
      `token endpoint redirected (${status}); redirects are not followed, check "tokenUrl"`,
    );
  });

  it.each([100, 199])('%d is an endpoint error, even with a token in the body', (status) => {
    const body = { access_token: 'AT-INFORMATIONAL', expires_in: 60 };
    const error = cleanError(() => parse(status, body), 'AT-INFORMATIONAL');
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      status,
      error: undefined,
      errorDescription: undefined,
      body: `JSON, ${bytes(body)} B`,
      endpoint: ENDPOINT,
    });
    expect(error.message).toBe(`token endpoint ${ENDPOINT} returned ${status} (JSON, ${bytes(body)} B)`);
  });
});

describe('parseTokenEndpointResponse: Retry-After on 429 and 503', () => {
  const body = { error: 'slow_down', error_description: 'too many requests' };
  const size = `JSON, ${bytes(body)} B`;

  it.each([429, 503])(
    '%d with delay-seconds is a TokenEndpointRetryLaterError with every field',
    (status) => {
      const error = cleanError(() => parse(status, body, { retryAfter: '30' }));
      expect(error).toBeInstanceOf(TokenEndpointRetryLaterError);
      expect(error).toMatchObject({
        status,
        error: 'slow_down',
        errorDescription: 'too many requests',
        body: size,
        retryAfterMs: 30_000,
        endpoint: ENDPOINT,
        code: 'TOKEN_ENDPOINT_ERROR',
      });
      expect(error.message).toBe(`token endpoint returned ${status} slow_down: too many requests`);
    },
  );

  it('503 with an HTTP-date counts from when the answer came', () => {
    const error = thrownBy(() =>
      parse(503, body, { retryAfter: new Date(NOW + 90_000).toUTCString() }),
    ) as TokenEndpointRetryLaterError;
    expect(error).toBeInstanceOf(TokenEndpointRetryLaterError);
    expect(error.retryAfterMs).toBe(90_000);
  });

  it('a date already past is 0 ms', () => {
    const error = thrownBy(() =>
      parse(429, body, { retryAfter: new Date(NOW - 90_000).toUTCString() }),
    ) as TokenEndpointRetryLaterError;
    expect(error).toBeInstanceOf(TokenEndpointRetryLaterError);
    expect(error.retryAfterMs).toBe(0);
  });

  it.each<[string, number, string | undefined]>([
    ['500 with Retry-After', 500, '30'],
    ['400 with Retry-After', 400, '30'],
    ['429 without Retry-After', 429, undefined],
    ['503 without Retry-After', 503, undefined],
    ['429 with an unreadable Retry-After', 429, 'soon'],
  ])('%s is a plain TokenEndpointError', (_label, status, retryAfter) => {
    const error = cleanError(() => parse(status, body, retryAfter === undefined ? {} : { retryAfter }));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).not.toBeInstanceOf(TokenEndpointRetryLaterError);
    expect(error).toMatchObject({
      status,
      error: 'slow_down',
      errorDescription: 'too many requests',
      body: size,
    });
    expect('retryAfterMs' in error).toBe(false);
  });

  describe('through a real token endpoint', () => {
    let server: LoopbackServer;
    beforeAll(async () => {
      server = await startLoopbackServer((_req, res) =>
        sendJson(res, 429, { error: 'slow_down' }, { 'retry-after': '7' }),
      );
    });
    afterAll(() => server.close());

    it('a 429 with Retry-After: 7 is a TokenEndpointRetryLaterError of 7 s', async () => {
      const answer = await postTokenRequest({
        url: server.tokenUrl,
        form: new URLSearchParams({ grant_type: 'client_credentials', client_secret: SECRET }),
        timeoutMs: 5000,
        maxResponseBytes: 4096,
      });
      const error = cleanError(() =>
        parseTokenEndpointResponse(answer, optionsAt(clock.now(), { endpoint: server.tokenUrl })),
      );
      expect(error).toBeInstanceOf(TokenEndpointRetryLaterError);
      expect(error).toMatchObject({
        status: 429,
        error: 'slow_down',
        errorDescription: undefined,
        body: `JSON, ${bytes({ error: 'slow_down' })} B`,
        retryAfterMs: 7000,
        endpoint: server.tokenUrl,
      });
      expect(error.message).toBe('token endpoint returned 429 slow_down');
    });
  });
});

describe('retryAfterMsOf', () => {
  const date = 'Wed, 21 Oct 2015 07:28:00 GMT';
  const at = Date.parse(date);

  it.each<[string, string | undefined, number, number | undefined]>([
    ['absent', undefined, NOW, undefined],
    ['delay-seconds', '30', NOW, 30_000],
    ['zero seconds', '0', NOW, 0],
    ['seconds in spaces', ' 120 ', NOW, 120_000],
    ['seconds with a unit', '30s', NOW, undefined],
    ['seconds after a letter', 'x30', NOW, undefined],
    ['a fraction', '1.5', NOW, undefined],
    ['a negative number', '-5', NOW, undefined],
    ['an IMF-fixdate ahead', date, at - 5000, 5000],
    ['an IMF-fixdate in spaces', `  ${date} `, at - 5000, 5000],
    ['an IMF-fixdate past', date, at + 5000, 0],
    ['an IMF-fixdate now', date, at, 0],
    // RFC 9110 §5.6.7: a recipient must accept all three HTTP-date formats.
    ['an asctime date ahead, in GMT whatever the local zone', 'Wed Oct 21 07:28:00 2015', at - 2000, 2000],
    ['an RFC 850 date ahead', 'Wednesday, 21-Oct-15 07:28:00 GMT', at - 3000, 3000],
    ['an IMF-fixdate without its comma', 'Wed 21 Oct 2015 07:28:00 GMT', at - 4000, 4000],
    ['a day name of ten letters', 'Wednesdayy, 21-Oct-15 07:28:00 GMT', at - 3000, undefined],
    ['an ISO date, which is no HTTP-date', '2015-10-21T07:28:00Z', at - 5000, undefined],
    ['a date after a word', 'x Wed, 21 Oct 2015 07:28:00 GMT', at - 5000, undefined],
    ['a day name, no date', 'Wed, someday', NOW, undefined],
    ['empty', '', NOW, undefined],
  ])('%s: %p at %p → %p', (_label, value, now, expected) => {
    expect(retryAfterMsOf(value, now)).toBe(expected);
  });
});

describe('parseTokenEndpointResponse: what an error answer may show', () => {
  it.each(['access_token', 'refresh_token', 'id_token'])(
    'a %s in the error answer is a secret too, wherever it is repeated',
    (field) => {
      const body = {
        error: 'invalid_grant',
        error_description: 'grant tokenvalue was revoked',
        [field]: 'tokenvalue',
      };
      const error = cleanError(() => parse(400, body), 'tokenvalue');
      expect(error).toMatchObject({
        status: 400,
        error: 'invalid_grant',
        errorDescription: `grant ${REDACTED} was revoked`,
      });
      expect(error.message).toBe(`token endpoint returned 400 invalid_grant: grant ${REDACTED} was revoked`);
    },
  );

  it('an empty error_description is no description', () => {
    const error = cleanError(() => parse(400, { error: 'invalid_request', error_description: '' }));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).errorDescription).toBeUndefined();
    expect(error.message).toBe('token endpoint returned 400 invalid_request');
  });

  it('code and description that are each clean but spell a part of a secret together are both dropped', () => {
    // Neither `invalid_client` nor `unknown client` holds 8 characters of the secret; joined by
    // ": " into the message, `nt: unkn` does (the whole secret does not appear).
    const secret = 'nt: unknown-Zq81-credential';
    const body = { error: 'invalid_client', error_description: 'unknown client' };
    const options = { redact: createRedactor([secret]) };
    const error = thrownBy(() => parse(400, body, {}, options));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({
      status: 400,
      error: undefined,
      errorDescription: undefined,
      body: `JSON, ${bytes(body)} B`,
      endpoint: ENDPOINT,
    });
    expect(error.message).toBe(`token endpoint ${ENDPOINT} returned 400 (JSON, ${bytes(body)} B)`);
    for (const text of errorRenderings(error)) expect(text).not.toContain('nt: unkn');

    // The same answer, with nothing secret in it, keeps both.
    expect(thrownBy(() => parse(400, body)).message).toBe(
      'token endpoint returned 400 invalid_client: unknown client',
    );
  });
});
