/**
 * `util.inspect` (and `toJSON`) of the module options hides every value whose option name looks like
 * a credential, wherever it sits (e.g. `redis.sentinel.sentinelPassword`), and keeps the names an
 * operator needs to read (`keyPrefix`, `kid`, `tokenUrl`) readable.
 */
import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { TEST_SECRETS } from '../testing-support/test-secrets.js';
import { HIDDEN, displayCopy, hideSecretsFromInspection } from './secret-hiding.js';

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

describe('displayCopy: what a logged configuration shows', () => {
  it.each<[string, unknown, unknown]>([
    ['a named function by its name', { clock: function systemClock() {} }, { clock: '[systemClock]' }],
    ['an anonymous function as [function]', { hooks: [() => 1] }, { hooks: ['[function]'] }],
    [
      'a class instance by its class name',
      { store: new (class MemoryStore {})() },
      { store: '[MemoryStore]' },
    ],
    ['a Map by its class name', { cache: new Map([['k', API_KEY]]) }, { cache: '[Map]' }],
    [
      'an object whose prototype has no constructor as [object]',
      { odd: Object.create(Object.create(null) as object) as object },
      { odd: '[object]' },
    ],
    [
      'a list item by item',
      { baseUrls: ['https://a.example', 2, null] },
      { baseUrls: ['https://a.example', 2, null] },
    ],
    [
      'null, numbers and booleans as they are',
      { a: null, b: 0, c: false, d: 'x' },
      { a: null, b: 0, c: false, d: 'x' },
    ],
    [
      'a credential as hidden',
      { password: CREDENTIAL, refreshToken: CREDENTIAL },
      { password: HIDDEN, refreshToken: HIDDEN },
    ],
    ['an unset credential as unset', { password: undefined }, { password: undefined }],
    [
      'the names that identify rather than authenticate',
      { accessKey: 'ak', cacheKey: 'ck', kid: 'k1' },
      { accessKey: 'ak', cacheKey: 'ck', kid: 'k1' },
    ],
    ['extraParams as a whole', { extraParams: { audience: 'x' } }, { extraParams: HIDDEN }],
    [
      'a url without its password',
      { url: `redis://user:${CREDENTIAL}@redis.example:6379/2` },
      { url: 'redis://user:hidden@redis.example:6379/2' },
    ],
    [
      'a url without a password as it is',
      { url: 'redis://user@redis.example:6379' },
      { url: 'redis://user@redis.example:6379' },
    ],
    ['a url that does not parse as hidden', { url: `not a url ${CREDENTIAL}` }, { url: HIDDEN }],
    ['a url option that is not a string as any value', { url: 6379 }, { url: 6379 }],
    [
      'another option holding a url as it is',
      { tokenUrl: 'https://u@a.example/t' },
      { tokenUrl: 'https://u@a.example/t' },
    ],
    [
      'a null-prototype object as plain data',
      Object.assign(Object.create(null) as object, { secretKey: API_KEY, name: 'n' }),
      { secretKey: HIDDEN, name: 'n' },
    ],
  ])('shows %s', (_case, value, shown) => {
    expect(displayCopy(value)).toEqual(shown);
  });

  it('shows a cycle as [circular] instead of recursing forever', () => {
    const config: Record<string, unknown> = { name: 'a' };
    config.self = config;
    config.list = [config];
    expect(displayCopy(config)).toEqual({ name: 'a', self: '[circular]', list: ['[circular]'] });
  });

  it('gives the copy ordinary own properties, "__proto__" included', () => {
    const copy = displayCopy(JSON.parse('{"__proto__": {"x": 1}, "a": 1}')) as object;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(copy, 'a')).toEqual({
      value: 1,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
});

describe('hideSecretsFromInspection', () => {
  it('adds an inspect rendering only, non-enumerable and replaceable, leaving the object as it is', () => {
    const config = { secretKey: API_KEY, name: 'kling' };
    expect(hideSecretsFromInspection(config)).toBe(config);
    expect(config.secretKey).toBe(API_KEY);
    expect(inspect(config)).toBe(`{ secretKey: '${HIDDEN}', name: 'kling' }`);
    expect(Object.getOwnPropertyDescriptor(config, inspect.custom)).toMatchObject({
      enumerable: false,
      configurable: true,
    });
    expect(Object.hasOwn(config, 'toJSON')).toBe(false);
    expect({ ...config }).toEqual({ secretKey: API_KEY, name: 'kling' });
    expect(() => hideSecretsFromInspection(config, { json: true })).not.toThrow();
  });

  it('with json, adds a toJSON that hides too, non-enumerable and replaceable', () => {
    const config = { secretKey: API_KEY, name: 'kling' };
    hideSecretsFromInspection(config, { json: true });
    expect(JSON.parse(JSON.stringify(config))).toEqual({ secretKey: HIDDEN, name: 'kling' });
    expect(Object.getOwnPropertyDescriptor(config, 'toJSON')).toMatchObject({
      enumerable: false,
      configurable: true,
    });
    expect(Object.keys(config)).toEqual(['secretKey', 'name']);
    expect(() => hideSecretsFromInspection(config, { json: true })).not.toThrow();
  });

  it('renders what the object holds when inspected, not what it held when hidden', () => {
    const config: Record<string, unknown> = { name: 'kling' };
    hideSecretsFromInspection(config);
    config.password = CREDENTIAL;
    expect(inspect(config)).toBe(`{ name: 'kling', password: '${HIDDEN}' }`);
  });
});
