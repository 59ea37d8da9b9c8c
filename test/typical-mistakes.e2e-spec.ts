import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TokenModule, TokenService } from '@app/token';
import { LogCapture } from './support/log-capture.js';

// The mistakes a new user makes in the first hour, each with the exact text they see (an error
// message or log lines) once the library has caught it. docs/troubleshooting.md quotes these texts.

const SECRET = 'Tm-typical-SECRET-canary-8e4d';
const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

// ioredis is installed here: the error Node's loader throws without it stands in for it (row 4).
// Nothing else in this file loads ioredis.
jest.unstable_mockModule('ioredis', () => {
  throw Object.assign(
    new Error(
      "Cannot find package 'ioredis' imported from /app/node_modules/nest-token-manager/dist/stores/optional-dependency.js",
    ),
    { code: 'ERR_MODULE_NOT_FOUND' },
  );
});

/** The message of what `run` throws. */
async function messageOf(run: () => Promise<unknown>): Promise<string[]> {
  try {
    await run();
  } catch (error) {
    return [(error as Error).message];
  }
  throw new Error('expected an error');
}

interface Mistake {
  row: number;
  mistake: string;
  /** What the user sees: the error's message, or the log lines, one per entry. */
  seen: () => Promise<string[]>;
  expected: string[];
}

let logs: LogCapture | undefined;
afterEach(() => {
  logs?.restore();
  logs = undefined;
});

/** The lines the library logged, with the logger's context and the random retry delay masked. */
function libraryLines(capture: LogCapture, text: string): string[] {
  return capture.lines
    .filter((line) => line.includes(text))
    .map((line) => line.replace(/\s+TokenService$/, '').replace(/retry in \d+ ms/, 'retry in N ms'));
}

const mistakes: Mistake[] = [
  {
    row: 4,
    mistake: "store: 'redis' without ioredis installed",
    seen: () =>
      messageOf(() =>
        Test.createTestingModule({
          imports: [
            TokenModule.forRoot({
              providers: { kling: { type: 'jwt', accessKey: 'ak', secretKey: SECRET } },
              store: 'redis',
              redis: { encryptionKeys: [{ kid: 'k1', key: ENCRYPTION_KEY }] },
            }),
          ],
        }).compile(),
      ),
    expected: [
      'store: \'redis\' needs the package "ioredis", which is not installed: npm install ioredis ' +
        '(it is an optional peer dependency of nest-token-manager)',
    ],
  },
  {
    row: 9,
    mistake: 'the first token request fails (no token cached yet)',
    seen: async () => {
      logs = new LogCapture();
      const moduleRef = await Test.createTestingModule({
        imports: [
          TokenModule.forRoot({
            providers: {
              upstream: {
                type: 'custom',
                useFactory: () => ({
                  cacheKey: 'upstream',
                  generate: () => Promise.reject(new Error('connection refused')),
                }),
              },
            },
            refresh: { enabled: false },
          }),
        ],
      })
        .setLogger(logs)
        .compile();
      await expect(moduleRef.get(TokenService).getToken('upstream')).rejects.toThrow('connection refused');
      await moduleRef.close();
      return libraryLines(logs, '"upstream"');
    },
    expected: [
      'error token provider "upstream": could not get a token: connection refused (failure 1); retry in N ms; ' +
        'no valid token cached, callers fail until a refresh succeeds',
    ],
  },
];

describe('typical mistakes of the first hour: what the user sees', () => {
  it.each(mistakes.map((m) => [m.row, m.mistake, m] as const))('row %i: %s', async (_row, _text, m) => {
    const seen = await m.seen();
    expect(seen).toEqual(m.expected);
    for (const line of seen) expect(line).not.toContain(SECRET);
  });
});
