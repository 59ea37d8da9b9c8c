/**
 * `util.inspect` (and `toJSON`) of the module options hides every value whose option name looks like
 * a credential, wherever it sits (e.g. `redis.sentinel.sentinelPassword`), and keeps the names an
 * operator needs to read (`keyPrefix`, `kid`, `tokenUrl`) readable.
 */
import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { TEST_SECRETS } from '../testing-support/test-secrets.js';
import { HIDDEN, hideSecretsFromInspection } from './secret-hiding.js';

const SENTINEL_PASSWORD = 'Hd-SENTINEL-password-canary-7e3b';
const API_KEY = 'Hd-api-KEY-canary-40c5';
const SUBJECT_TOKEN = 'Hd-subject-TOKEN-canary-92dd';
const CREDENTIAL = 'Hd-credential-canary-1a6f';

const options = () => ({
  redis: {
    keyPrefix: 'ntm-visible:',
    encryptionKeys: [{ kid: 'kid-visible-2026', key: API_KEY }],
    sentinel: {
      sentinels: ['127.0.0.1:26379'],
      name: 'main',
      sentinelUsername: 'sentinel-user-visible',
      sentinelPassword: SENTINEL_PASSWORD,
    },
  },
  providers: {
    kling: { type: 'jwt', accessKey: 'access-key-id-visible', secretKey: API_KEY },
    exchange: {
      type: 'oauth2',
      tokenUrl: 'https://issuer.example/token',
      tokenExchange: { subjectToken: SUBJECT_TOKEN, actorToken: SUBJECT_TOKEN },
      apiKey: API_KEY,
      api_key: API_KEY,
      accessToken: SUBJECT_TOKEN,
      clientCredentials: CREDENTIAL,
      passphrase: CREDENTIAL,
    },
  },
});

const renderings = (value: object): [string, string][] => [
  ['inspect', inspect(value, { depth: Infinity })],
  ['inspect showHidden', inspect(value, { depth: Infinity, showHidden: true })],
  ['JSON.stringify', JSON.stringify(value)],
];

describe('secret hiding in the module options', () => {
  it('lists its canaries in the secret scan', () => {
    expect(TEST_SECRETS).toEqual(
      expect.arrayContaining([SENTINEL_PASSWORD, API_KEY, SUBJECT_TOKEN, CREDENTIAL]),
    );
  });

  it.each(renderings(hideSecretsFromInspection(options(), { json: true })))(
    '%s shows no credential, wherever it sits',
    (_how, text) => {
      const shown = [SENTINEL_PASSWORD, API_KEY, SUBJECT_TOKEN, CREDENTIAL].filter((secret) =>
        text.includes(secret),
      );
      expect(shown).toEqual([]);
      expect(text).toContain(HIDDEN);
    },
  );

  it.each(renderings(hideSecretsFromInspection(options(), { json: true })))(
    '%s keeps the non-secret names readable',
    (_how, text) => {
      for (const visible of [
        'ntm-visible:',
        'kid-visible-2026',
        'sentinel-user-visible',
        'https://issuer.example/token',
        'access-key-id-visible',
        '127.0.0.1:26379',
      ]) {
        expect(text).toContain(visible);
      }
    },
  );
});
