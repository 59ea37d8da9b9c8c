/**
 * Acceptance fuzz: generated token endpoint answers (random statuses, headers and bodies that embed
 * the client secret in any of its encodings) sent by a real loopback server to a `TokenService`.
 * Whatever comes back: no crash, every failure a typed error, and no spelling of the secret in any
 * error rendering (message, stack, cause, JSON, `util.inspect` at any depth) or log line.
 * 10,000 answers over the wire, plus 5,000 straight through the parser.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { LogCapture } from '../../testing-support/log-capture.js';
import { startLoopbackServer, type LoopbackServer } from '../../testing-support/oauth2-loopback-server.js';
import { TEST_SECRETS } from '../../testing-support/test-secrets.js';
import {
  TokenAcquisitionError,
  TokenEndpointError,
  TokenEndpointHeldError,
  TokenRequestError,
  TokenResponseError,
} from '../../core/token.errors.js';
import { TokenInfo } from '../../core/token-info.js';
import { TokenService } from '../../module/token.service.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import { createRedactor } from './token-endpoint-redaction.js';
import { parseTokenEndpointResponse } from './token-endpoint-response.js';

const SECRET = 'Fe SECRET/fuzz"<&>+c0de';
const CLIENT_ID = 'svc-fuzz';
const BASIC = Buffer.from(`${CLIENT_ID}:${new URLSearchParams({ s: SECRET }).toString().slice(2)}`).toString(
  'base64',
);

const percentAll = (text: string) =>
  [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const ENCODERS: ((secret: string) => string)[] = [
  (s) => s,
  encodeURIComponent,
  (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
  (s) => percentAll(s),
  (s) => percentAll(s).toUpperCase(),
  (s) => new URLSearchParams({ s }).toString().slice(2),
  (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!),
  (s) => [...s].map((c) => `&#${c.charCodeAt(0)};`).join(''),
  (s) => [...s].map((c) => `&#x${c.charCodeAt(0).toString(16)};`).join(''),
  (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/'),
  (s) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  (s) => Buffer.from(s).toString('base64'),
  (s) => Buffer.from(s).toString('base64url'),
  (s) => `${s.slice(0, 9)}\n${s.slice(9)}`,
  (s) => `https://as.example.com/cb?state=1&echo=${encodeURIComponent(s)}`,
  () => BASIC,
];
const encodedSecret = fc.nat(ENCODERS.length - 1).map((index) => ENCODERS[index](SECRET));
/** Every full spelling generated, to look for in the outputs. */
const SPELLINGS = [...ENCODERS.map((encode) => encode(SECRET)), BASIC].filter((s) => s.length >= 8);

const text = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: encodedSecret },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 20 }), encodedSecret, fc.string({ maxLength: 20 }))
      .map((p) => p.join('')),
  },
);
const jsonBody = fc
  .record(
    {
      access_token: fc.oneof(fc.constant('at-fuzz-ok'), text, fc.constantFrom(null, 7, '')),
      token_type: fc.oneof(fc.constantFrom('Bearer', 'bearer', 'MAC', undefined), text),
      expires_in: fc.oneof(fc.integer({ min: -5, max: 10_000 }), text, fc.constant(undefined)),
      error: fc.oneof(fc.constant(undefined), fc.constantFrom('invalid_client', 'invalid_grant'), text),
      error_description: text,
      error_uri: text,
      refresh_token: text,
      nested: fc.dictionary(fc.string({ maxLength: 8 }), text, { maxKeys: 2 }),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));
const body = fc.oneof(
  { weight: 6, arbitrary: jsonBody },
  { weight: 2, arbitrary: text.map((t) => `<html><body><pre>${t}</pre></body></html>`) },
  { weight: 2, arbitrary: fc.array(text, { maxLength: 4 }).map((parts) => parts.join('\r\n')) },
  { weight: 1, arbitrary: jsonBody.chain((json) => fc.nat(json.length).map((n) => json.slice(0, n))) },
);
/** Header values must be latin-1 without CR/LF to be sent at all. */
const headerValue = text.map((value) => value.replace(/[^\x20-\x7e]/g, '?'));
const anyAnswer = fc.record({
  status: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(200, 400, 401, 403, 500, 503) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 599 }) },
  ),
  contentType: fc.oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/html'),
    },
    { weight: 1, arbitrary: headerValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  headers: fc.dictionary(
    fc.constantFrom('x-echo', 'www-authenticate', 'location', 'retry-after', 'set-cookie', 'x-request-id'),
    headerValue,
    { maxKeys: 3 },
  ),
  body,
  clientAuth: fc.constantFrom('client_secret_basic' as const, 'client_secret_post' as const),
});
/** A usable token with the secret echoed in other fields: a success must not log it either. */
const goodAnswer = fc.record({
  status: fc.constantFrom(200, 201),
  contentType: fc.constant('application/json'),
  headers: fc.dictionary(fc.constantFrom('x-echo', 'set-cookie'), headerValue, { maxKeys: 2 }),
  body: fc
    .record({ scope: text, echo: text, refresh_token: text, id_token: text }, { requiredKeys: [] })
    .map((extra) =>
      JSON.stringify({ access_token: 'at-fuzz-ok', token_type: 'Bearer', expires_in: 3600, ...extra }),
    ),
  clientAuth: fc.constantFrom('client_secret_basic' as const, 'client_secret_post' as const),
});
const answer = fc.oneof({ weight: 4, arbitrary: anyAnswer }, { weight: 1, arbitrary: goodAnswer });
type Answer = typeof answer extends fc.Arbitrary<infer T> ? T : never;

const typedCauses = [TokenEndpointError, TokenResponseError, TokenRequestError];
const detector = createRedactor([SECRET, BASIC]);

/**
 * The first output that spells the secret, or undefined. Every rendering is searched for each full
 * spelling; the texts the server's words can reach (messages, the JSON of each error in the cause
 * chain, log lines) are also decoded every which way. Plain code: it runs 20,000 times.
 */
function leakIn(texts: readonly string[], decodeAlso: readonly string[]): string | undefined {
  for (const t of [...texts, ...decodeAlso]) {
    if (t.includes(SECRET) || SPELLINGS.some((spelling) => t.includes(spelling))) return t;
  }
  return decodeAlso.find((t) => detector.reveals(t));
}

function renderings(error: unknown): { all: string[]; server: string[] } {
  const all: string[] = [String(error), (error as Error).stack ?? ''];
  const server: string[] = [];
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    server.push(cause.message, JSON.stringify(cause) ?? '');
    all.push(inspect(cause, { depth: Infinity, showHidden: true }));
  }
  return { all, server };
}

function play(a: Answer, res: ServerResponse): void {
  const headers: Record<string, string> = { ...a.headers };
  if (a.contentType !== undefined) headers['content-type'] = a.contentType;
  res.writeHead(a.status, headers).end(a.body);
}

describe('token endpoint answers embedding encoded secrets, fuzzed', () => {
  let server: LoopbackServer;
  const logs = new LogCapture();
  beforeAll(async () => {
    expect(TEST_SECRETS).toContain(SECRET);
    server = await startLoopbackServer();
    logs.install();
  });
  afterAll(async () => {
    logs.restore();
    await server.close();
  });

  it('10,000 answers over a real loopback server: a token or a typed error, never a secret', async () => {
    let failures = 0;
    let tokens = 0;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(answer, async (a) => {
        server.handle((_request, response) => play(a, response));
        // Each answer is judged on its own: a path per run, so that a Retry-After one answer set
        // (it holds for its token URL in the whole process) does not refuse the next runs' requests.
        const tokenUrl = `${server.tokenUrl}/${++run}`;
        logs.lines.length = 0;
        const service = new TokenService();
        service.register(
          'fuzz',
          new OAuth2Strategy({
            tokenUrl,
            clientId: CLIENT_ID,
            clientSecret: SECRET,
            clientAuth: a.clientAuth,
            useRefreshToken: false,
            timeoutMs: 2_000,
          }),
        );
        let outcome: unknown;
        try {
          outcome = await service.getToken('fuzz');
        } catch (error) {
          outcome = error;
        } finally {
          await service.onApplicationShutdown();
        }
        if (outcome instanceof TokenInfo) {
          tokens++;
          const leak = leakIn(
            [inspect(outcome, { depth: Infinity })],
            [JSON.stringify(outcome), ...logs.lines],
          );
          if (leak !== undefined) throw new Error(`a success leaks: ${leak.slice(0, 300)}`);
          return;
        }
        failures++;
        if (outcome instanceof TokenAcquisitionError && outcome.cause instanceof TokenEndpointHeldError)
          throw new Error('the answer never reached the client: an earlier Retry-After held the URL');
        if (!(outcome instanceof TokenAcquisitionError))
          throw new Error(`untyped failure: ${String(outcome)}`);
        if (!typedCauses.some((type) => outcome.cause instanceof type)) {
          throw new Error(`untyped cause: ${String(outcome.cause)}`);
        }
        const { all, server: fromServer } = renderings(outcome);
        const leak = leakIn(all, [...fromServer, ...logs.lines]);
        if (leak !== undefined) throw new Error(`a failure leaks: ${leak.slice(0, 300)}`);
      }),
      { numRuns: 10_000 },
    );
    // Both outcomes must be common, or the property says little.
    expect(failures).toBeGreaterThan(5_000);
    expect(tokens).toBeGreaterThan(1_000);
  }, 600_000);

  it('5,000 more answers straight through the parser', () => {
    const redact = createRedactor([SECRET, BASIC]);
    fc.assert(
      fc.property(answer, (a) => {
        let failed: string | undefined;
        try {
          parseTokenEndpointResponse(
            { status: a.status, contentType: a.contentType ?? '', body: a.body },
            { receivedAt: 1_700_000_000_000, defaultExpiresInSeconds: 3600, redact },
          );
        } catch (error) {
          const { all, server } = renderings(error);
          const problem = !typedCauses.some((type) => error instanceof type)
            ? `untyped: ${String(error)}`
            : leakIn(all, server) && `leak: ${leakIn(all, server)!.slice(0, 300)}`;
          // Reported outside the catch: the failing error itself may hold the secret.
          if (problem) failed = problem;
        }
        if (failed) throw new Error(failed);
      }),
      { numRuns: 5_000 },
    );
  }, 300_000);
});
