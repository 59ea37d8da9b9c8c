import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ConfigModule, registerAs } from '@nestjs/config';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { TokenModule, TokenService, UseToken, tokenConfigFromEnv, type TokenModuleOptions } from '@app/token';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const pem = (key: KeyObject, type: 'pkcs1' | 'sec1' | 'pkcs8') =>
  key.export({ type, format: 'pem' }).toString();

@Injectable()
@UseToken('klingg')
class KlingClient {
  createTask(): string {
    return 'task';
  }
}

@Injectable()
class ReportsClient {
  @UseToken('opnai')
  fetchReport(): string {
    return 'report';
  }
}

const registered: TokenModuleOptions['providers'] = {
  kling: { type: 'jwt', accessKey: 'ak', secretKey: SECRET },
  openai: { type: 'jwt', accessKey: 'ak2', secretKey: SECRET },
};

/** Starts an application whose classes name providers that are not registered. */
async function startWithTypos(options: TokenModuleOptions): Promise<string[]> {
  const moduleRef = await Test.createTestingModule({
    imports: [TokenModule.forRoot({ providers: registered, refresh: { enabled: false }, ...options })],
    providers: [KlingClient, ReportsClient],
  })
    .setLogger(logs!)
    .compile();
  try {
    await moduleRef.init();
    return libraryLines(logs!, 'UseToken');
  } finally {
    await moduleRef.close();
  }
}

/** Starts the module, gets a token of `name` and says how it is signed and whether it verifies. */
async function signedToken(
  name: string,
  publicKey: KeyObject,
  options: TokenModuleOptions,
  env?: Record<string, string>,
): Promise<string[]> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(env === undefined
        ? []
        : [
            ConfigModule.forRoot({
              isGlobal: true,
              ignoreEnvFile: true,
              load: [registerAs('token', () => tokenConfigFromEnv(env))],
            }),
          ]),
      TokenModule.forRoot(options),
    ],
  }).compile();
  try {
    const { token } = await moduleRef.get(TokenService).getToken(name);
    const { payload } = await jwtVerify(token, publicKey);
    return [`signed ${decodeProtectedHeader(token).alg}, verified with the public key, iss ${payload.iss}`];
  } finally {
    await moduleRef.close();
  }
}

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
    .map((line) =>
      line.replace(/\s+(TokenService|TokenModule)$/, '').replace(/retry in \d+ ms/, 'retry in N ms'),
    );
}

const TYPOS = [
  `@UseToken('klingg') on KlingClient: token provider "klingg" is not registered; did you mean "kling"?`,
  `@UseToken('opnai') on ReportsClient.fetchReport: token provider "opnai" is not registered; did you mean "openai"?`,
  `registered providers: "kling", "openai". A provider registered later with TokenService.register(): ` +
    `set unregisteredProviders: 'warn'.`,
].join('\n');

const mistakes: Mistake[] = [
  {
    row: 1,
    mistake: "@UseToken('klingg'): a typo in a provider's name stops start-up",
    seen: () => {
      logs = new LogCapture();
      return messageOf(() => startWithTypos({}));
    },
    expected: [TYPOS],
  },
  {
    row: 1,
    mistake: "@UseToken('klingg') with unregisteredProviders: 'warn': a warning at start-up",
    seen: () => {
      logs = new LogCapture();
      return startWithTypos({ unregisteredProviders: 'warn' });
    },
    expected: TYPOS.split('\n')
      .slice(0, 2)
      .map((line) => `warn ${line} (registered providers: "kling", "openai")`),
  },
  {
    row: 2,
    mistake: 'a PEM in an environment variable with literal \\n instead of newlines',
    seen: () =>
      signedToken(
        'svc',
        rsa.publicKey,
        { refresh: { enabled: false } },
        {
          TOKEN__PROVIDERS__SVC__TYPE: 'jwt',
          TOKEN__PROVIDERS__SVC__ACCESS_KEY: 'ak-env',
          TOKEN__PROVIDERS__SVC__ALGORITHM: 'RS256',
          TOKEN__PROVIDERS__SVC__PRIVATE_KEY: pem(rsa.privateKey, 'pkcs8').trim().replace(/\n/g, '\\n'),
        },
      ),
    expected: ['signed RS256, verified with the public key, iss ak-env'],
  },
  {
    row: 3,
    mistake: 'a PKCS#1 RSA key (BEGIN RSA PRIVATE KEY)',
    seen: () =>
      signedToken('svc', rsa.publicKey, {
        providers: {
          svc: {
            type: 'jwt',
            accessKey: 'ak-pkcs1',
            algorithm: 'RS256',
            privateKey: pem(rsa.privateKey, 'pkcs1'),
          },
        },
        refresh: { enabled: false },
      }),
    expected: ['signed RS256, verified with the public key, iss ak-pkcs1'],
  },
  {
    row: 3,
    mistake: 'a SEC1 EC key (BEGIN EC PRIVATE KEY), escaped newlines too',
    seen: () =>
      signedToken('svc', ec.publicKey, {
        providers: {
          svc: {
            type: 'jwt',
            accessKey: 'ak-sec1',
            algorithm: 'ES256',
            privateKey: pem(ec.privateKey, 'sec1').replace(/\n/g, '\\n'),
          },
        },
        refresh: { enabled: false },
      }),
    expected: ['signed ES256, verified with the public key, iss ak-sec1'],
  },
  {
    row: 5,
    mistake: 'several configuration mistakes at once, from environment variables',
    seen: () =>
      messageOf(() =>
        Test.createTestingModule({
          imports: [
            ConfigModule.forRoot({
              isGlobal: true,
              ignoreEnvFile: true,
              load: [
                registerAs('token', () =>
                  tokenConfigFromEnv({
                    TOKEN__PROVIDERS__KLING__TYPE: 'jwt',
                    TOKEN__PROVIDERS__KLING__ACCESS_KEY: 'ak',
                    TOKEN__PROVIDERS__OPENAI__TYPE: 'oauth',
                    TOKEN__PROVIDERS__OPENAI__CLIENT_SECRET: SECRET,
                    TOKEN__SAFETY_MARGIN_MS: '5m',
                    TOKEN__STORE: 'redsi',
                  }),
                ),
              ],
            }),
            TokenModule.forRoot(),
          ],
        }).compile(),
      ),
    expected: [
      [
        'token module options: 4 mistakes:',
        '  - token provider "kling": "secretKey" is required for HS256 (environment variable TOKEN__PROVIDERS__KLING__SECRET_KEY)',
        '  - token provider "openai": "type" must be one of jwt, oauth2, custom (environment variable TOKEN__PROVIDERS__OPENAI__TYPE)',
        '  - "safetyMarginMs" must be a number (environment variable TOKEN__SAFETY_MARGIN_MS)',
        '  - "store" must be one of memory, redis (environment variable TOKEN__STORE)',
      ].join('\n'),
    ],
  },
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
    row: 6,
    mistake: 'the token endpoint answers an HTML 500 (its URL with a query)',
    seen: async () => {
      // A proxy's error page: 2,100 bytes of HTML, nothing of it worth showing.
      const page = '<html><body><h1>500 Internal Server Error</h1>' + ' '.repeat(2033) + '</body></html>';
      const server = createServer((_request, response) => {
        response.writeHead(500, { 'content-type': 'text/html' });
        response.end(page);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      logs = new LogCapture();
      const moduleRef = await Test.createTestingModule({
        imports: [
          TokenModule.forRoot({
            providers: {
              partner: {
                type: 'oauth2',
                tokenUrl: `${origin}/oauth2/token?api-version=2`,
                clientId: 'svc',
                clientSecret: SECRET,
              },
            },
            refresh: { enabled: false },
          }),
        ],
      })
        .setLogger(logs)
        .compile();
      const message = await messageOf(() => moduleRef.get(TokenService).getToken('partner'));
      await moduleRef.close();
      await new Promise((resolve) => server.close(resolve));
      return [...message, ...libraryLines(logs, '"partner"')].map((line) =>
        line.replaceAll(origin, 'http://127.0.0.1:PORT'),
      );
    },
    expected: [
      'token provider "partner": could not get a token: token endpoint http://127.0.0.1:PORT/oauth2/token returned 500 (HTML, 2.1 kB)',
      'error token provider "partner": could not get a token: token endpoint http://127.0.0.1:PORT/oauth2/token returned 500 (HTML, 2.1 kB) ' +
        '(failure 1); retry in N ms; no valid token cached, callers fail until a refresh succeeds',
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
    for (const line of seen) {
      expect(line).not.toContain(SECRET);
      expect(line).not.toMatch(/PRIVATE KEY|MII[A-Za-z0-9+/]{20}/);
    }
  });
});
