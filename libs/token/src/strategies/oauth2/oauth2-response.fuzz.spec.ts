/**
 * Property tests: whatever a token endpoint answers, the strategy gives a usable TokenInfo or one of
 * the typed errors — never a crash, a hang, or a message holding a secret or a token.
 * ~10,300 cases: 8,000 through the pure parser, 2,000 through the redactor, 300 through a real
 * loopback server and the whole strategy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ServerResponse } from 'node:http';
import { UnsecuredJWT } from 'jose';
import {
  errorRenderings,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { createRedactor, sanitizeServerText } from './token-endpoint-redaction.js';
import { parseTokenEndpointResponse } from './token-endpoint-response.js';
import { TokenEndpointError, TokenRequestError, TokenResponseError } from '../../core/token.errors.js';
import { TokenInfo } from '../../core/token-info.js';
import { OAuth2Strategy } from './oauth2.strategy.js';

/** Statuses sent without a body (RFC 9110 §15.3.5, §15.3.6, §15.4.5): Node's server drops a huge one. */
const BODILESS_STATUSES = new Set([204, 205, 304]);
const SECRET = 'Fz-SECRET-canary-7c1d';
const ACCESS_TOKEN = 'AT-CANARY-91b2e0';
const REFRESH_TOKEN = 'RT-CANARY-55aa01';
const NOW = 1_700_000_000_000;
const BASIC = Buffer.from(`svc:${SECRET}`).toString('base64');

/** Text a hostile or broken server might send, with our secrets mixed in. */
const canary = fc.constantFrom(
  SECRET,
  ACCESS_TOKEN,
  REFRESH_TOKEN,
  encodeURIComponent(SECRET),
  BASIC,
  `Basic ${BASIC}`,
  `client_secret=${SECRET}`,
);
const wildString = fc.oneof(
  { weight: 3, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 2, arbitrary: canary },
  { weight: 2, arbitrary: fc.tuple(fc.string(), canary, fc.string()).map(([a, b, c]) => a + b + c) },
);
const jwts = [NOW / 1000 + 600, NOW / 1000 - 600, 1e20].map((exp) =>
  new UnsecuredJWT({ sub: 'svc' }).setExpirationTime(exp).encode(),
);
const accessToken = fc.oneof(
  { weight: 6, arbitrary: fc.constant(ACCESS_TOKEN) },
  { weight: 2, arbitrary: fc.constantFrom(...jwts) },
  { weight: 2, arbitrary: wildString },
  { weight: 1, arbitrary: fc.constantFrom('', null, 0, true, [], {}) },
);
const expiresIn = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.nat().map(String),
  fc.constantFrom('60', ' 60 ', '-1', 'NaN', '1e400', '', '0x10', null, undefined, true, [], 1e308),
  wildString,
);
const tokenType = fc.oneof(
  fc.constantFrom('Bearer', 'bearer', 'DPoP', 'N_A', '', 'Bearer x', null, undefined, 7),
  wildString,
);
const errorField = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('invalid_grant', 'invalid_client', '', null, 0, {}) },
  { weight: 1, arbitrary: wildString },
);
const tokenObject = fc
  .record(
    {
      access_token: accessToken,
      token_type: tokenType,
      expires_in: expiresIn,
      refresh_token: fc.oneof(fc.constant(REFRESH_TOKEN), wildString),
      scope: wildString,
      error: errorField,
      error_description: wildString,
      other: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const body = fc.oneof(
  { weight: 8, arbitrary: tokenObject },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 2, arbitrary: wildString },
  { weight: 2, arbitrary: tokenObject.chain((json) => fc.nat(json.length).map((n) => json.slice(0, n))) },
  {
    weight: 1,
    arbitrary: fc.nat(150_000).map((n) => `{"access_token":"${ACCESS_TOKEN}","pad":"${'x'.repeat(n)}"}`),
  },
);
const headerSafe = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const contentType = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON;charset=UTF-8',
      'application/problem+json',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'text/html',
      '',
      'application/x-www-form-urlencoded',
      'application/jsonx',
      'json',
      `text/${SECRET}`,
    ),
  },
  { weight: 1, arbitrary: headerSafe },
);
const status = fc.oneof(
  { weight: 6, arbitrary: fc.constant(200) },
  { weight: 4, arbitrary: fc.constantFrom(201, 204, 301, 302, 307, 400, 401, 403, 404, 429, 500, 502, 503) },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
);

const typedErrors = [TokenEndpointError, TokenResponseError, TokenRequestError];

/** Tokens the code could know are tokens: the ones in the answer's own token fields. */
function tokensIn(text: string): string[] {
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    return [value?.access_token, value?.refresh_token].filter(
      (v): v is string => v === ACCESS_TOKEN || v === REFRESH_TOKEN,
    );
  } catch {
    return [];
  }
}

/**
 * A typed error, and none of the request's secrets (nor the answer's own tokens) in any rendering.
 * Plain checks rather than `expect`: this runs thousands of times and must stay cheap.
 */
function expectTypedSafeError(error: unknown, secrets: string[]): void {
  if (!typedErrors.some((type) => error instanceof type)) throw new Error(`untyped error: ${String(error)}`);
  for (const text of errorRenderings(error)) {
    const leaked = secrets.find((secret) => text.includes(secret));
    if (leaked) throw new Error(`error rendering leaks ${leaked}: ${text.slice(0, 300)}`);
  }
}

function expectUsableToken(info: unknown, receivedAt: number): void {
  const problems: string[] = [];
  if (!(info instanceof TokenInfo)) throw new Error('not a TokenInfo');
  if (!/^[\x20-\x7e]+$/.test(info.token)) problems.push('token');
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(info.tokenType)) problems.push('tokenType');
  if (info.issuedAt !== receivedAt) problems.push('issuedAt');
  if (!Number.isSafeInteger(info.expiresAt)) problems.push('expiresAt');
  if (Object.hasOwn(info.extra, 'access_token')) problems.push('extra.access_token');
  if (problems.length > 0) throw new Error(`unusable TokenInfo: ${problems.join(', ')}`);
}

describe('token endpoint answers, fuzzed', () => {
  it('the parser gives a TokenInfo or a typed, secret-free error (8,000 cases)', () => {
    const redact = createRedactor([SECRET, BASIC, REFRESH_TOKEN]);
    fc.assert(
      fc.property(status, contentType, body, (statusCode, type, text) => {
        let info: TokenInfo;
        try {
          info = parseTokenEndpointResponse(
            { status: statusCode, contentType: type, body: text },
            { receivedAt: NOW, defaultExpiresInSeconds: 3600, redact },
          );
        } catch (error) {
          expectTypedSafeError(error, [SECRET, BASIC, REFRESH_TOKEN, ...tokensIn(text)]);
          return;
        }
        expectUsableToken(info, NOW);
        if (statusCode < 200 || statusCode >= 300) throw new Error(`a token from a ${statusCode} answer`);
      }),
      { numRuns: 8000 },
    );
  });

  it('the redactor leaves no secret in server text, whatever surrounds it (2,000 cases)', () => {
    // A secret spelled with the marker's own brackets could be re-formed around "[redacted]".
    const secretArb = fc.string({ minLength: 6, maxLength: 40 }).filter((s) => !/[[\]]/.test(s));
    fc.assert(
      fc.property(
        secretArb,
        fc.array(fc.oneof(fc.string(), fc.constantFrom('\n', '"', '&', '=', ' ')), { maxLength: 6 }),
        fc.nat(600),
        (secret, pieces, cap) => {
          const redact = createRedactor([secret]);
          const encodings = [
            secret,
            encodeURIComponent(secret),
            new URLSearchParams({ s: secret }).toString().slice(2),
            JSON.stringify(secret).slice(1, -1),
          ];
          const text = pieces.flatMap((piece, i) => [piece, encodings[i % encodings.length]]).join('');
          const clean = sanitizeServerText(text, redact, cap + 1);
          expect(clean).not.toContain(secret);
          expect(redact.reveals(clean)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

type Mode = 'normal' | 'truncate' | 'huge' | 'hang' | 'lying-length';
const answer = fc.record({
  status,
  contentType: fc.oneof(
    contentType.filter((t) => /^[\x20-\x7e]*$/.test(t)),
    fc.constant(undefined),
  ),
  body: fc.oneof(
    { weight: 4, arbitrary: body.map((b) => Buffer.from(b, 'utf8')) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b)) },
  ),
  mode: fc.oneof(
    { weight: 30, arbitrary: fc.constant<Mode>('normal') },
    { weight: 3, arbitrary: fc.constant<Mode>('truncate') },
    { weight: 3, arbitrary: fc.constant<Mode>('huge') },
    { weight: 3, arbitrary: fc.constant<Mode>('lying-length') },
    { weight: 1, arbitrary: fc.constant<Mode>('hang') },
  ),
  clientAuth: fc.constantFrom('client_secret_basic' as const, 'client_secret_post' as const),
});
type Answer = typeof answer extends fc.Arbitrary<infer T> ? T : never;

function play(a: Answer, res: ServerResponse): void {
  if (a.mode === 'hang') return;
  const headers: Record<string, string> =
    a.contentType === undefined ? {} : { 'content-type': a.contentType };
  switch (a.mode) {
    case 'normal':
      res.writeHead(a.status, headers).end(a.body);
      return;
    case 'lying-length':
      res.writeHead(a.status, { ...headers, 'content-length': String(a.body.length + 10) }).write(a.body);
      res.socket?.end();
      return;
    case 'truncate':
      res.writeHead(a.status, headers).write(a.body.subarray(0, a.body.length >> 1));
      setImmediate(() => res.socket?.destroy());
      return;
    case 'huge': {
      res.writeHead(a.status, headers);
      let sent = 0;
      const pump = () => {
        while (!res.destroyed && sent < 64 * 1024 && res.write(Buffer.alloc(1024, 0x61))) sent += 1024;
        if (!res.destroyed && sent < 64 * 1024) res.once('drain', pump);
        else res.end();
      };
      pump();
    }
  }
}

describe('token endpoint answers over a real loopback server, fuzzed', () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer();
  });
  afterAll(() => server.close());

  it('generate() resolves to a TokenInfo or rejects with a typed, secret-free error (300 cases)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        server.handle((_req, res) => play(a, res));
        // A path per run: a Retry-After one answer set holds for its token URL in the whole process,
        // and must not turn the next runs' answers into a refusal before any request.
        const strategy = new OAuth2Strategy({
          tokenUrl: `${server.tokenUrl}/${++run}`,
          clientId: 'svc',
          clientSecret: SECRET,
          clientAuth: a.clientAuth,
          timeoutMs: 300,
          maxResponseBytes: 2048,
          useRefreshToken: false,
        });
        let info: TokenInfo;
        const before = Date.now();
        try {
          info = await strategy.generate();
        } catch (error) {
          expectTypedSafeError(error, [SECRET, BASIC, ...tokensIn(a.body.toString('utf8'))]);
          if (a.mode === 'hang' || (a.mode === 'huge' && !BODILESS_STATUSES.has(a.status)))
            expect(error).toBeInstanceOf(TokenRequestError);
          return;
        }
        expect(a.mode).toBe('normal');
        expect(info.issuedAt).toBeGreaterThanOrEqual(before);
        expectUsableToken(info, info.issuedAt);
      }),
      { numRuns: 300 },
    );
    // 300 real exchanges: 6 s on a quiet machine, several times that on a loaded one.
  }, 120_000);
});
