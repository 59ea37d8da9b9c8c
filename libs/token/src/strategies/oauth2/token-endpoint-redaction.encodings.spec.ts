/**
 * A token endpoint that echoes the client secret back, in every spelling an escaper, a template or
 * a proxy might give it, in every place of its answer: none of those spellings may reach an error
 * (message, stack, cause, JSON, `util.inspect` at any depth) or a log line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { LogCapture } from '../../testing-support/log-capture.js';
import { startLoopbackServer, type LoopbackServer } from '../../testing-support/oauth2-loopback-server.js';
import { TEST_SECRETS } from '../../testing-support/test-secrets.js';
import { crossCases } from '../../testing-support/property-seeds.js';
import { TokenAcquisitionError, TokenEndpointError } from '../../core/token.errors.js';
import { TokenService } from '../../module/token.service.js';
import { OAuth2Strategy } from './oauth2.strategy.js';
import { createRedactor } from './token-endpoint-redaction.js';

/** Space, slash, quote, angle brackets, ampersand and plus: every encoding spells it differently. */
const SECRET = 'Ek SECRET/canary"<&>+9f2e';

const hex = (text: string, upper: boolean) => {
  const encoded = [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  return upper ? encoded.toUpperCase() : encoded;
};
const lowerPercent = (text: string) => text.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase());
const named: Record<string, string> = {
  '"': '&quot;',
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '/': '&sol;',
  '+': '&plus;',
  ' ': '&nbsp;',
};

/** The secret as a server might spell it back. */
const ENCODINGS: [string, string][] = [
  ['raw', SECRET],
  ['percent-encoded, upper case', encodeURIComponent(SECRET)],
  ['percent-encoded, lower case', lowerPercent(encodeURIComponent(SECRET))],
  ['every byte percent-encoded, lower case', hex(SECRET, false)],
  ['every byte percent-encoded, upper case', hex(SECRET, true)],
  ['form-encoded, "+" for space', new URLSearchParams({ s: SECRET }).toString().slice(2)],
  ['HTML named entities', SECRET.replace(/["<>&/+ ]/g, (c) => named[c])],
  ['HTML decimal entities', [...SECRET].map((c) => `&#${c.charCodeAt(0)};`).join('')],
  ['HTML hex entities', [...SECRET].map((c) => `&#x${c.charCodeAt(0).toString(16)};`).join('')],
  ['JSON escapes with \\/', JSON.stringify(SECRET).slice(1, -1).replace(/\//g, '\\/')],
  [
    'JSON \\uXXXX for every character',
    [...SECRET].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join(''),
  ],
  ['base64', Buffer.from(SECRET).toString('base64')],
  ['base64url', Buffer.from(SECRET).toString('base64url')],
  ['base64 of "client:secret"', Buffer.from(`svc-enc:${SECRET}`).toString('base64')],
  ['split across lines', `${SECRET.slice(0, 12)}\r\n    ${SECRET.slice(12)}`],
  [
    'base64 split across lines',
    Buffer.from(SECRET)
      .toString('base64')
      .replace(/(.{8})/g, '$1\n'),
  ],
  ['inside a URL query', `https://as.example.com/echo?x=1&echo=${encodeURIComponent(SECRET)}&y=2`],
  [
    'HTML-escaped URL query',
    `https://as.example.com/echo?x=1&amp;echo=${lowerPercent(encodeURIComponent(SECRET))}`,
  ],
];

type Placement = { name: string; contentType: string; body: (encoded: string) => string };
const PLACEMENTS: Placement[] = [
  { name: 'error', contentType: 'application/json', body: (e) => JSON.stringify({ error: e }) },
  {
    name: 'error_description',
    contentType: 'application/json',
    body: (e) => JSON.stringify({ error: 'invalid_client', error_description: `bad client ${e} rejected` }),
  },
  {
    name: 'error_uri',
    contentType: 'application/json',
    body: (e) => JSON.stringify({ error: 'invalid_client', error_uri: `https://as.example.com/help#${e}` }),
  },
  {
    name: 'raw HTML body',
    contentType: 'text/html',
    body: (e) => `<html><body><p>Denied: ${e}</p></body></html>`,
  },
  {
    name: 'raw JSON body (text)',
    contentType: 'application/json',
    body: (e) => `{"error":"invalid_client","echo":"${e.replace(/["\\]/g, (c) => `\\${c}`)}"}`,
  },
];

let server: LoopbackServer;
let answer = { contentType: 'text/plain', body: '' };
const logs = new LogCapture();

beforeAll(async () => {
  expect(TEST_SECRETS).toContain(SECRET);
  server = await startLoopbackServer((_request, response) => {
    response.writeHead(400, { 'content-type': answer.contentType }).end(answer.body);
  });
  logs.install();
});
afterEach(() => {
  logs.lines.length = 0;
});
afterAll(async () => {
  logs.restore();
  await server.close();
});

/**
 * What must not show: any 12 characters in a row of the secret's spelling (all of it when shorter),
 * the parts around a line break taken one by one, the URL around the secret left out.
 */
function forbiddenPieces(encoded: string): string[] {
  const core = encoded.startsWith('https://') ? encoded.split('echo=')[1] : encoded;
  const pieces: string[] = [];
  for (const part of core.split(/\s+/).filter(Boolean)) {
    if (part.length <= 12) pieces.push(part);
    else for (let i = 0; i + 12 <= part.length; i++) pieces.push(part.slice(i, i + 12));
  }
  // Base64 cut into 8-character lines: a single line is too short to tell; the whole is checked.
  return pieces.filter((piece) => piece.length >= 8);
}

/** Every rendering of the failure and of what it was made from, as deep as it goes. */
function outputs(error: unknown): string[] {
  const cause = (error as Error).cause;
  const texts = [
    (error as Error).message,
    String(error),
    (error as Error).stack ?? '',
    JSON.stringify(error),
  ];
  for (const value of [error, cause]) {
    texts.push(
      JSON.stringify(value) ?? '',
      inspect(value, { depth: Infinity }),
      inspect(value, { depth: Infinity, showHidden: true }),
      JSON.stringify({ ...(value as object) }),
    );
  }
  return [...texts, ...logs.lines];
}

describe('redaction holds under encodings', () => {
  it(`covers at least 12 encodings in ${PLACEMENTS.length} places`, () => {
    expect(new Set(ENCODINGS.map(([, encoded]) => encoded)).size).toBeGreaterThanOrEqual(12);
  });

  const cases = crossCases(PLACEMENTS, ENCODINGS).map(
    ([placement, [encoding, encoded]]) => [placement.name, encoding, placement, encoded] as const,
  );
  it.each(cases)(
    '%s holding the secret %s: nowhere in any output',
    async (_place, _encoding, placement, encoded) => {
      answer = { contentType: placement.contentType, body: placement.body(encoded) };
      const service = new TokenService();
      service.register(
        'echo',
        new OAuth2Strategy({ tokenUrl: server.tokenUrl, clientId: 'svc-enc', clientSecret: SECRET }),
      );
      const failure = await service.getToken('echo').catch((error: unknown) => error);
      await service.onApplicationShutdown();

      expect(failure).toBeInstanceOf(TokenAcquisitionError);
      expect((failure as Error).cause).toBeInstanceOf(TokenEndpointError);
      expect((failure as TokenEndpointError & { cause: TokenEndpointError }).cause.status).toBe(400);
      const detector = createRedactor([SECRET]);
      const texts = outputs(failure);
      const pieces = [...forbiddenPieces(encoded), encoded.replace(/\s+/g, '')];
      expect(logs.lines.length).toBeGreaterThan(0);
      for (const text of texts) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(encoded);
        const compact = text.replace(/\s+/g, '');
        for (const piece of pieces)
          expect([text, compact].some((t) => t.includes(piece)) ? piece : '').toBe('');
        expect(detector.reveals(text)).toBe(false);
      }
    },
  );
});
