/**
 * Redaction by construction, as a property: for random secrets, each of 32 reversible encodings (and
 * chains of two of them, and the secret's first half), echoed by a real loopback token endpoint in
 * every place a server can put text, no 8 characters in a row of the secret or of its encoded form
 * appear in any output: message, stack, `cause` chain, `JSON.stringify`, `util.inspect`, log lines,
 * events. Runs with a fixed seed and a random one; each seed is in its test's name (and in
 * fast-check's failure report), and REDACTION_SEED=<seed> replays it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { LogCapture } from '../../testing-support/log-capture.js';
import { startLoopbackServer, type LoopbackServer } from '../../testing-support/oauth2-loopback-server.js';
import {
  TokenAcquisitionError,
  TokenEndpointError,
  TokenEndpointHeldError,
} from '../../core/token.errors.js';
import { TokenService } from '../../module/token.service.js';
import { crossCases, propertyRuns, propertySeeds } from '../../testing-support/property-seeds.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import { createRedactor, errorCodeOf, sanitizeServerText } from './token-endpoint-redaction.js';
import { parseTokenEndpointResponse } from './token-endpoint-response.js';

// Printed on every run (stderr); REDACTION_SEED=<seed> replays the random one.
const SEEDS = propertySeeds('redaction', { fixed: 19_001, env: 'REDACTION_SEED' }).map(({ seed }) => seed);

const WINDOW = 8;
const bytes = (s: string) => [...Buffer.from(s, 'utf8')];
const hex2 = (b: number) => b.toString(16).padStart(2, '0');
const base32 = (s: string) => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of bytes(s)) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return out.padEnd(Math.ceil(out.length / 8) * 8, '=');
};
const rot13 = (s: string) =>
  s.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
const fullwidth = (s: string) =>
  [...s].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');

/** Reversible spellings a server, a template, a proxy or a debugging page might give a secret. */
const ENCODINGS: ReadonlyArray<readonly [string, (s: string) => string]> = [
  ['raw', (s) => s],
  ['hex, lower case', (s) => bytes(s).map(hex2).join('')],
  ['hex, upper case', (s) => bytes(s).map(hex2).join('').toUpperCase()],
  ['hex, colon-separated', (s) => bytes(s).map(hex2).join(':')],
  ['hex, colon-separated upper case', (s) => bytes(s).map(hex2).join(':').toUpperCase()],
  ['hex, space-separated', (s) => bytes(s).map(hex2).join(' ')],
  [
    '\\xNN escapes',
    (s) =>
      bytes(s)
        .map((b) => `\\x${hex2(b)}`)
        .join(''),
  ],
  ['\\u{…} escapes', (s) => [...s].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('')],
  [
    '\\uXXXX escapes',
    (s) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  ],
  [
    'octal escapes',
    (s) =>
      bytes(s)
        .map((b) => `\\${b.toString(8).padStart(3, '0')}`)
        .join(''),
  ],
  ['decimal byte list', (s) => bytes(s).join(',')],
  ['decimal byte list with spaces', (s) => `[${bytes(s).join(', ')}]`],
  ['base64', (s) => Buffer.from(s).toString('base64')],
  ['base64url', (s) => Buffer.from(s).toString('base64url')],
  ['base64 of UTF-16', (s) => Buffer.from(s, 'utf16le').toString('base64')],
  ['base64 of gzip', (s) => gzipSync(s).toString('base64')],
  [
    'base64 wrapped every 16',
    (s) =>
      Buffer.from(s)
        .toString('base64')
        .replace(/(.{16})/g, '$1\r\n'),
  ],
  ['base32', base32],
  ['zero-width spaces between letters', (s) => [...s].join('\u200b')],
  ['joiners and BOMs between letters', (s) => [...s].join('\u200d\u2060\ufeff')],
  ['soft hyphens between letters', (s) => [...s].join('\u00ad')],
  ['percent-encoded', encodeURIComponent],
  [
    'every byte percent-encoded',
    (s) =>
      bytes(s)
        .map((b) => `%${hex2(b)}`)
        .join(''),
  ],
  ['form-encoded', (s) => new URLSearchParams({ s }).toString().slice(2)],
  ['HTML decimal entities', (s) => [...s].map((c) => `&#${c.codePointAt(0)};`).join('')],
  ['HTML hex entities', (s) => [...s].map((c) => `&#x${c.codePointAt(0)!.toString(16)};`).join('')],
  ['JSON-escaped', (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/')],
  [
    'quoted-printable',
    (s) =>
      bytes(s)
        .map((b) => `=${hex2(b).toUpperCase()}`)
        .join(''),
  ],
  ['spaced out', (s) => [...s].join(' ')],
  ['reversed', (s) => [...s].reverse().join('')],
  ['rot13', rot13],
  ['fullwidth', fullwidth],
];

/** Random secrets as servers issue them: uniform bytes over a secret alphabet (no spaces). */
const ALPHABETS = [
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  '0123456789abcdef',
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  [...Array(94)].map((_, i) => String.fromCharCode(33 + i)).join(''),
];
const secretArb = fc
  .tuple(fc.nat(ALPHABETS.length - 1), fc.noBias(fc.array(fc.nat(0xffff), { minLength: 16, maxLength: 48 })))
  .map(([a, picks]) => picks.map((n) => ALPHABETS[a][n % ALPHABETS[a].length]).join(''));

type Place = { name: string; status: number; contentType: string; body: (encoded: string) => string };
/** Every place a token endpoint can put text: §5.2 fields, other fields, error pages, headers. */
const PLACES: Place[] = [
  { name: 'error', status: 400, contentType: 'application/json', body: (e) => JSON.stringify({ error: e }) },
  {
    name: 'error_description',
    status: 400,
    contentType: 'application/json',
    body: (e) =>
      JSON.stringify({
        error: 'invalid_client',
        error_description: `client authentication failed: you sent ${e}`,
      }),
  },
  {
    name: 'error_uri and another field',
    status: 401,
    contentType: 'application/json',
    body: (e) => JSON.stringify({ error: 'invalid_client', error_uri: `https://as.example/e?${e}`, echo: e }),
  },
  {
    name: 'error and error_description of a 200',
    status: 200,
    contentType: 'application/json',
    body: (e) => JSON.stringify({ error: e, error_description: e, access_token: 'at' }),
  },
  {
    name: 'error_description of a 429 with Retry-After',
    status: 429,
    contentType: 'application/json',
    body: (e) => JSON.stringify({ error: 'slow_down', error_description: e }),
  },
  {
    name: 'an HTML error page',
    status: 500,
    contentType: 'text/html',
    body: (e) => `<html><body><h1>Denied</h1><p>you sent ${e}</p></body></html>`,
  },
  { name: 'a text body', status: 502, contentType: 'text/plain', body: (e) => `upstream said: ${e}` },
  {
    name: 'a JSON string body',
    status: 400,
    contentType: 'application/json',
    body: (e) => JSON.stringify(e),
  },
  {
    name: 'an HTML page answering 200',
    status: 200,
    contentType: 'text/html; charset=utf-8',
    body: (e) => `<p>${e}</p>`,
  },
  {
    name: 'the content-type header',
    status: 200,
    contentType: 'text/x-echo; e=', // the encoded form is appended when a header can carry it
    body: () => '{"access_token":"at"}',
  },
];

let server: LoopbackServer;
let answer: { place: Place; encoded: string } | undefined;
const logs = new LogCapture();

function play(res: ServerResponse): void {
  const { place, encoded } = answer!;
  let contentType = place.contentType;
  if (place.name === 'the content-type header')
    contentType += /^[\x20-\x7e]*$/.test(encoded) ? encoded : encodeURIComponent(encoded);
  res.writeHead(place.status, { 'content-type': contentType, 'retry-after': '1' }).end(place.body(encoded));
}

beforeAll(async () => {
  server = await startLoopbackServer((_req, res) => play(res));
  logs.install();
});
afterAll(async () => {
  logs.restore();
  await server.close();
});

/**
 * A token URL of its own per case: a 429 with `Retry-After` holds its URL in the whole process, and
 * the next case must reach the server (and its text), not be refused before any request.
 */
let cases = 0;
const caseUrl = (query = '') => `${server.tokenUrl}/case-${++cases}${query}`;

/** Every rendering of the failure, its cause chain, the log lines and the events it caused. */
async function outputsOf(secret: string, serverText: { place: Place; encoded: string }): Promise<string[]> {
  answer = serverText;
  logs.lines.length = 0;
  const events: unknown[] = [];
  const service = new TokenService();
  service.events.on('refresh-failed', (event) => events.push(event));
  service.events.on('expired', (event) => events.push(event));
  service.register(
    'echo',
    new OAuth2Strategy({ tokenUrl: caseUrl('?tenant=t1'), clientId: 'svc', clientSecret: secret }),
  );
  const failure = await service.getToken('echo').then(
    () => new Error('expected a failure'),
    (error: unknown) => error as Error,
  );
  await service.onApplicationShutdown();
  if (!(failure instanceof TokenAcquisitionError)) throw failure;
  if (failure.cause instanceof TokenEndpointHeldError) throw new Error('the case never reached the server');
  const texts: string[] = [];
  for (let e: unknown = failure; e instanceof Error; e = e.cause) {
    texts.push(e.message, e.stack ?? '', String(e), JSON.stringify(e), JSON.stringify({ ...e }));
  }
  texts.push(inspect(failure, { depth: Infinity, showHidden: true }), inspect(failure, { depth: Infinity }));
  for (const event of events) texts.push(inspect(event, { depth: Infinity }), JSON.stringify(event));
  return [...texts, ...logs.lines];
}

/** The first window of 8 characters of the secret or of its encoded form found in the outputs. */
function leakedWindow(outputs: readonly string[], forms: readonly string[]): string | undefined {
  const windows = new Set<string>();
  for (const form of forms)
    for (let i = 0; i + WINDOW <= form.length; i++) windows.add(form.slice(i, i + WINDOW));
  for (const text of outputs) {
    for (let i = 0; i + WINDOW <= text.length; i++) {
      const window = text.slice(i, i + WINDOW);
      if (windows.has(window)) return `${JSON.stringify(window)} in ${text.slice(0, 300)}`;
    }
  }
  return undefined;
}

const encodingArb = fc.nat(ENCODINGS.length - 1);
const chainArb = fc.oneof(
  encodingArb.map((i) => ({ name: ENCODINGS[i][0], encode: ENCODINGS[i][1] })),
  fc.tuple(encodingArb, encodingArb).map(([i, j]) => ({
    name: `${ENCODINGS[j][0]} of ${ENCODINGS[i][0]}`,
    encode: (s: string) => ENCODINGS[j][1](ENCODINGS[i][1](s)),
  })),
  fc.constant({ name: 'first half', encode: (s: string) => s.slice(0, Math.ceil(s.length / 2)) }),
);

describe('token endpoint text reaches no output but what may be shown (property)', () => {
  it(`covers at least 25 reversible encodings in ${PLACES.length} places`, () => {
    expect(ENCODINGS.length).toBeGreaterThanOrEqual(25);
    const sample = 'k3J d9/xQ"p+Z&é~';
    expect(new Set(ENCODINGS.map(([, encode]) => encode(sample))).size).toBe(ENCODINGS.length);
  });

  it.each(SEEDS)(
    'every encoding in every place, for a random secret (seed %d)',
    async (seed) => {
      const [secret] = fc.sample(secretArb, { seed, numRuns: 1 });
      for (const [[name, encode], place] of crossCases(ENCODINGS, PLACES)) {
        const encoded = encode(secret);
        const leak = leakedWindow(await outputsOf(secret, { place, encoded }), [secret, encoded]);
        expect(leak && `${name} in ${place.name}: ${leak}`).toBeUndefined();
      }
    },
    120_000,
  );

  it.each(SEEDS)(
    'random secrets, encodings and chains of two, in random places (seed %d)',
    async (seed) => {
      await fc.assert(
        fc.asyncProperty(secretArb, chainArb, fc.constantFrom(...PLACES), async (secret, chain, place) => {
          const encoded = chain.encode(secret);
          const leak = leakedWindow(await outputsOf(secret, { place, encoded }), [secret, encoded]);
          if (leak) throw new Error(`${chain.name} in ${place.name}: ${leak}`);
        }),
        { seed, numRuns: propertyRuns(300) },
      );
    },
    300_000,
  );
});

describe('the same property straight through the parser, 2,000 answers a seed', () => {
  it.each(SEEDS)(
    'seed %d',
    (seed) => {
      fc.assert(
        fc.property(secretArb, chainArb, fc.constantFrom(...PLACES), (secret, chain, place) => {
          const encoded = chain.encode(secret);
          const contentType =
            place.name === 'the content-type header' ? `${place.contentType}${encoded}` : place.contentType;
          let failure: unknown;
          try {
            parseTokenEndpointResponse(
              { status: place.status, contentType, body: place.body(encoded), retryAfter: '1' },
              { receivedAt: 0, defaultExpiresInSeconds: 60, redact: createRedactor([secret]) },
            );
          } catch (error) {
            failure = error;
          }
          if (!(failure instanceof Error)) throw new Error(`no error for ${place.name}`);
          const outputs = [
            failure.message,
            failure.stack ?? '',
            JSON.stringify(failure),
            inspect(failure, { depth: Infinity, showHidden: true }),
          ];
          const leak = leakedWindow(outputs, [secret, encoded]);
          if (leak) throw new Error(`${chain.name} in ${place.name}: ${leak}`);
        }),
        { seed, numRuns: propertyRuns(2000) },
      );
    },
    120_000,
  );
});

describe('what may pass still passes', () => {
  const redact = createRedactor(['Sx-7fQ2-secret-value']);
  it.each([
    'invalid_client',
    'invalid_grant',
    'unauthorized_client',
    'unsupported_grant_type',
    'invalid_scope',
    'use_dpop_nonce',
    'invalid_dpop_proof',
    'temporarily_unavailable',
    'server_error',
    'slow_down',
  ])('the error code %s', (code) => {
    expect(errorCodeOf(code, redact)).toBe(code);
  });

  it.each([
    'Client authentication failed.',
    'Invalid client or Invalid client credentials',
    'no client authentication mechanism provided',
    'The redirect_uri does not match the registered one (see the client settings).',
    'client_id is a required parameter',
    "The grant type 'urn:ietf:params:oauth:grant-type:token-exchange' is not allowed for this client",
    'Token expired 300 seconds ago; request a new one.',
    'Requested scope is not allowed: read, write',
    'OAuth client not found - check the tenant',
  ])('the description %p', (description) => {
    expect(sanitizeServerText(description, redact, 256)).toBe(description);
  });

  it.each([
    ['a hex run', 'you sent 5a71392b3c4d5e6f', 'you sent [redacted]'],
    ['a base64 run', 'bad assertion eyJhbGciOiJSUzI1NiJ9 here', 'bad assertion [redacted] here'],
    ['escapes', 'got \\x53\\x78\\x2d', 'got [redacted]'],
    ['a byte list', 'bytes 83, 120, 45, 55 end', 'bytes [redacted] end'],
    ['letters spelled out', 'got S x 7 f Q', 'got [redacted]'],
    ['a part of a sent secret', 'value secret-value refused', 'value [redacted] refused'],
  ])('%s is replaced', (_label, description, shown) => {
    expect(sanitizeServerText(description, redact, 256)).toBe(shown);
  });

  it('an error code that is not a word is not shown', () => {
    for (const code of ['5a71392b', 'E53782D', 'invalid client', 'x"y', 'a'.repeat(49), 'ab:cd:ef', '']) {
      expect(errorCodeOf(code, redact)).toBeUndefined();
    }
    expect(errorCodeOf('secret_value', createRedactor(['secret_value_1']))).toBeUndefined();
  });
});

describe('issue 19 rows 1, 2 and 12 (named cases)', () => {
  const SECRET = 'Zq8sV2mK4wT7yB1n';
  const hex = (s: string) => bytes(s).map(hex2).join('');
  const row1 = [
    ['lower', hex(SECRET)],
    ['upper', hex(SECRET).toUpperCase()],
    ['colon-separated', bytes(SECRET).map(hex2).join(':')],
  ] as const;
  const where = PLACES.filter((p) => ['error', 'error_description', 'an HTML error page'].includes(p.name));

  it.each(
    row1.flatMap(([name, encoded]) => where.map((place) => [name, place.name, place, encoded] as const)),
  )(
    'row 1: the client secret hex-encoded (%s) in %s appears nowhere',
    async (_name, _place, place, encoded) => {
      expect(leakedWindow(await outputsOf(SECRET, { place, encoded }), [SECRET, encoded])).toBeUndefined();
    },
  );

  const row2Names = [
    '\\xNN escapes',
    '\\u{…} escapes',
    'octal escapes',
    'decimal byte list',
    'base64 of UTF-16',
    'base64 of gzip',
    'zero-width spaces between letters',
  ];
  const row2 = [
    ...ENCODINGS.filter(([name]) => row2Names.includes(name)),
    ['first half', (s: string) => s.slice(0, 8)] as const,
  ];
  it.each(row2.flatMap(([name, encode]) => where.map((place) => [name, place.name, place, encode] as const)))(
    'row 2: the client secret as %s in %s appears nowhere',
    async (_name, _place, place, encode) => {
      const encoded = encode(SECRET);
      expect(leakedWindow(await outputsOf(SECRET, { place, encoded }), [SECRET, encoded])).toBeUndefined();
    },
  );

  it.each(where.map((place) => [place.name, place] as const))(
    'row 12: a 5,000-character subject token echoed whole in %s appears nowhere',
    async (_place, place) => {
      const subject = fc.sample(fc.noBias(fc.stringMatching(/^[A-Za-z0-9_-]{5000}$/)), {
        seed: 12,
        numRuns: 1,
      })[0];
      answer = { place, encoded: subject };
      logs.lines.length = 0;
      const events: unknown[] = [];
      const service = new TokenService();
      service.events.on('refresh-failed', (event) => events.push(event));
      service.register(
        'exchange',
        new OAuth2Strategy({
          tokenUrl: caseUrl(),
          clientId: 'svc',
          clientSecret: 'Sx-7fQ2-secret-value',
          tokenExchange: { subjectToken: () => subject },
        }),
      );
      const failure = await service.getToken('exchange').then(
        () => new Error('expected a failure'),
        (error: unknown) => error as Error,
      );
      await service.onApplicationShutdown();
      expect(failure).toBeInstanceOf(TokenAcquisitionError);
      expect(failure.cause).toBeInstanceOf(TokenEndpointError);
      const outputs = [
        failure.message,
        (failure.cause as Error).message,
        JSON.stringify(failure.cause),
        inspect(failure, { depth: Infinity, showHidden: true }),
        ...events.map((event) => inspect(event, { depth: Infinity })),
        ...logs.lines,
      ];
      expect(logs.lines.length).toBeGreaterThan(0);
      expect(leakedWindow(outputs, [subject])).toBeUndefined();
    },
  );
});
