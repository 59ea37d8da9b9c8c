/**
 * Keys that JavaScript treats specially: an own `__proto__` key (what `JSON.parse` makes of
 * `{"__proto__": …}`) is dropped by the schema library, and environment paths through
 * `constructor`/`prototype` used to walk into `Object` itself. Both are refused or kept as data.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { resolveTokenConfig, tokenConfigFromEnv } from './token-config.loader.js';
import { parseOrThrow } from './validation.js';
import { tokenConfigSchema } from './token.options.js';
import { thrownOptionsError } from '../testing-support/options-errors.js';

const thrown = thrownOptionsError;

const jwtProvider = { type: 'jwt', accessKey: 'ak-public', secretKey: 'sk-loader-spec' };

describe('reserved keys in the configuration', () => {
  it('a provider named "__proto__" is refused, naming it, instead of vanishing', () => {
    const providers = JSON.parse('{"__proto__": {"type": "custom"}, "kling": {"type": "jwt"}}') as object;
    const error = thrown(() => resolveTokenConfig({ providers: providers as never }));
    expect(error.provider).toBe('__proto__');
    expect(error.field).toBe('name');
    expect(error.message).toContain('reserved');
  });

  it('a provider named "constructor" is an ordinary name', () => {
    const resolved = resolveTokenConfig({ providers: { constructor: jwtProvider } as never });
    expect(Object.keys(resolved.providers ?? {})).toEqual(['constructor']);
  });

  it('a "__proto__" claim is refused with the provider and the field', () => {
    const claims = JSON.parse('{"__proto__": {"admin": true}, "sub": "svc"}') as object;
    const error = thrown(() =>
      resolveTokenConfig({ providers: { kling: { ...jwtProvider, claims } } as never }),
    );
    expect(error.provider).toBe('kling');
    expect(error.field).toBe('claims.__proto__');
  });

  it('a top-level "__proto__" in the options is refused before merging, and nothing inherits from it', () => {
    const options = JSON.parse('{"__proto__": {"providers": {"x": {"type": "jwt"}}}}') as object;
    const error = thrown(() => resolveTokenConfig(options as never));
    expect(error.field).toBe('__proto__');
    expect(({} as Record<string, unknown>).providers).toBeUndefined();
  });

  it('the same check guards every parse, at any depth, in arrays too', () => {
    const value = { providers: { kling: { ...jwtProvider, baseUrls: [JSON.parse('{"__proto__": 1}')] } } };
    expect(thrown(() => parseOrThrow(tokenConfigSchema, value, 'options')).field).toBe(
      'baseUrls.0.__proto__',
    );
  });

  it('objects that are not plain data (class instances, cycles) are not walked', () => {
    const cyclic: Record<string, unknown> = {
      type: 'jwt',
      accessKey: 'ak-public',
      secretKey: 'sk-loader-spec',
    };
    cyclic.self = cyclic;
    expect(() => parseOrThrow(tokenConfigSchema, { providers: { kling: cyclic } }, 'options')).not.toThrow(
      /reserved/,
    );
  });
});

describe('tokenConfigFromEnv with unusual paths', () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>).polluted;
    delete (Object as unknown as Record<string, unknown>).polluted;
  });

  it('CONSTRUCTOR__PROTOTYPE__… stays data in the result and never reaches Object', () => {
    const config = tokenConfigFromEnv({
      TOKEN__CONSTRUCTOR__PROTOTYPE__POLLUTED: 'yes',
      TOKEN__PROVIDERS__CONSTRUCTOR__POLLUTED: 'yes',
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(config).toEqual({
      constructor: { prototype: { polluted: 'yes' } },
      providers: { constructor: { polluted: 'yes' } },
    });
  });

  it.each([
    ['value first', { TOKEN__STORE: 'redis', TOKEN__STORE__HOST: '127.0.0.1' }],
    ['options first', { TOKEN__STORE__HOST: '127.0.0.1', TOKEN__STORE: 'redis' }],
  ])('a variable that is both a value and a parent of options is a typed error (%s)', (_order, env) => {
    const error = thrown(() => tokenConfigFromEnv(env));
    expect(error.field).toBe('store');
    expect(error.message).toContain('TOKEN__STORE');
  });

  it.each([
    ['JSON first', { TOKEN__PROVIDERS__K__CLAIMS: '{"a":1,"b":1}', TOKEN__PROVIDERS__K__CLAIMS__B: '2' }],
    ['field first', { TOKEN__PROVIDERS__K__CLAIMS__B: '2', TOKEN__PROVIDERS__K__CLAIMS: '{"a":1,"b":1}' }],
  ])('a JSON object and finer variables combine, the finer one winning (%s)', (_order, env) => {
    expect(tokenConfigFromEnv(env)).toEqual({ providers: { k: { claims: { a: 1, b: '2' } } } });
  });
});

describe('tokenConfigFromEnv: which variables, which names, which values', () => {
  it('reads only the variables with the prefix and a value, and skips empty paths', () => {
    expect(
      tokenConfigFromEnv({
        PATH: '/usr/bin',
        TOKENS__STORE: 'redis',
        TOKEN__STORE: undefined,
        TOKEN__: 'nothing',
        TOKEN______: 'nothing',
        TOKEN__REFRESH____ENABLED: 'false',
        TOKEN__REFRESH__CRON__: '*/10 * * * * *',
      }),
    ).toEqual({ refresh: { enabled: false, cron: '*/10 * * * * *' } });
  });

  it('takes another prefix', () => {
    expect(tokenConfigFromEnv({ APP_TOKEN_STORE: 'redis', TOKEN__STORE: 'memory' }, 'APP_TOKEN_')).toEqual({
      store: 'redis',
    });
  });

  it('lower-cases provider names as they are and turns option names into camelCase', () => {
    expect(
      tokenConfigFromEnv({
        TOKEN__PROVIDERS__MY_API__ACCESS_KEY: 'ak',
        TOKEN__REDIS__KEY_PREFIX: 'app:',
        TOKEN__PROVIDERS__Kling__Secret_Key: 'sk-loader-spec',
      }),
    ).toEqual({
      providers: { my_api: { accessKey: 'ak' }, kling: { secretKey: 'sk-loader-spec' } },
      redis: { keyPrefix: 'app:' },
    });
  });

  it.each<[string, string, string, unknown]>([
    ['a boolean option "true"', 'TOKEN__REQUIRE_BASE_URLS', 'true', { requireBaseUrls: true }],
    [
      'a boolean option "false", spaces around',
      'TOKEN__REFRESH__ENABLED',
      ' false ',
      { refresh: { enabled: false } },
    ],
    ['a boolean option with another word', 'TOKEN__REFRESH__ENABLED', 'yes', { refresh: { enabled: 'yes' } }],
    [
      '"true" for an option that is no boolean',
      'TOKEN__PROVIDERS__K__ACCESS_KEY',
      'true',
      { providers: { k: { accessKey: 'true' } } },
    ],
    ['a whole number', 'TOKEN__REFRESH_TIMEOUT_MS', '600', { refreshTimeoutMs: 600 }],
    ['a single digit', 'TOKEN__REDIS__DB', '2', { redis: { db: 2 } }],
    ['a negative number', 'TOKEN__SAFETY_MARGIN_MS', '-5', { safetyMarginMs: -5 }],
    [
      'a decimal number',
      'TOKEN__PROVIDERS__K__DEFAULT_EXPIRES_IN_SECONDS',
      '1.25',
      { providers: { k: { defaultExpiresInSeconds: 1.25 } } },
    ],
    ['a port', 'TOKEN__REDIS__PORT', '6379', { redis: { port: 6379 } }],
    ['digits then letters', 'TOKEN__REFRESH_TIMEOUT_MS', '12abc', { refreshTimeoutMs: '12abc' }],
    ['letters then digits', 'TOKEN__REFRESH_TIMEOUT_MS', 'x12', { refreshTimeoutMs: 'x12' }],
    ['a number ending in a dot', 'TOKEN__REFRESH_TIMEOUT_MS', '12.', { refreshTimeoutMs: '12.' }],
    [
      'digits for an option that is no number',
      'TOKEN__PROVIDERS__K__CLIENT_ID',
      '0012345',
      { providers: { k: { clientId: '0012345' } } },
    ],
    [
      'a JSON list',
      'TOKEN__PROVIDERS__K__BASE_URLS',
      '["https://a.example"]',
      { providers: { k: { baseUrls: ['https://a.example'] } } },
    ],
    [
      'a JSON object',
      'TOKEN__PROVIDERS__K__CLAIMS',
      '{"sub":"svc"}',
      { providers: { k: { claims: { sub: 'svc' } } } },
    ],
    [
      'text that only looks like JSON, as written',
      'TOKEN__PROVIDERS__K__CLAIMS',
      ' {oops ',
      { providers: { k: { claims: ' {oops ' } } },
    ],
    [
      'any other text as written',
      'TOKEN__PROVIDERS__K__AUDIENCE',
      ' api ',
      { providers: { k: { audience: ' api ' } } },
    ],
  ])('reads %s', (_case, name, raw, expected) => {
    expect(tokenConfigFromEnv({ [name]: raw })).toEqual(expected);
  });

  it('a null in a JSON object can be set by a finer variable', () => {
    expect(
      tokenConfigFromEnv({ TOKEN__PROVIDERS__K__CLAIMS: '{"a":null}', TOKEN__PROVIDERS__K__CLAIMS__A: '1' }),
    ).toEqual({ providers: { k: { claims: { a: '1' } } } });
  });

  it.each<[string, Record<string, string>, string, string]>([
    [
      'a value, then options under it',
      { TOKEN__REDIS__URL: 'redis://x', TOKEN__REDIS__URL__HOST: 'h' },
      'environment variable TOKEN__REDIS__URL__HOST: TOKEN__REDIS__URL already sets a value there, so it cannot also hold options',
      'redis.url',
    ],
    [
      'a JSON null, then options under it',
      { TOKEN__PROVIDERS__K__CLAIMS: '{"a":null}', TOKEN__PROVIDERS__K__CLAIMS__A__B: '1' },
      'environment variable TOKEN__PROVIDERS__K__CLAIMS__A__B: TOKEN__PROVIDERS__K__CLAIMS__A already sets a value there, so it cannot also hold options',
      'providers.k.claims.a',
    ],
    [
      'options, then a value over them',
      { TOKEN__REDIS__SENTINEL__NAME: 'main', TOKEN__REDIS__SENTINEL: 'x' },
      'environment variable TOKEN__REDIS__SENTINEL: other TOKEN__REDIS__SENTINEL__… variables already set options there',
      'redis.sentinel',
    ],
    [
      'options, then a JSON list over them',
      { TOKEN__REDIS__SENTINEL__NAME: 'main', TOKEN__REDIS__SENTINEL: '["a"]' },
      'environment variable TOKEN__REDIS__SENTINEL: other TOKEN__REDIS__SENTINEL__… variables already set options there',
      'redis.sentinel',
    ],
    [
      'a JSON list, then a JSON object at the same place',
      { TOKEN__REDIS__CLUSTER: '["a"]', TOKEN__REDIS__CLUSTER__: '{"nodes":[]}' },
      'environment variable TOKEN__REDIS__CLUSTER__: other TOKEN__REDIS__CLUSTER____… variables already set options there',
      'redis.cluster',
    ],
  ])('%s is a typed error naming both variables and the option', (_case, env, message, field) => {
    const error = thrown(() => tokenConfigFromEnv(env));
    expect(error.message).toBe(message);
    expect(error.field).toBe(field);
    expect(error.provider).toBeUndefined();
  });
});

describe('resolveTokenConfig: forRoot options over the ConfigService namespace', () => {
  const configService = (token: Record<string, unknown>) =>
    ({ get: (namespace: string) => (namespace === 'token' ? token : undefined) }) as never;
  const providers = { kling: jwtProvider } as never;

  it('reads the namespace when the options have no providers, an unset option leaving its value', () => {
    const resolved = resolveTokenConfig(
      { refreshTimeoutMs: undefined, safetyMarginMs: 1000 },
      configService({ providers: { kling: jwtProvider }, refreshTimeoutMs: 5000, safetyMarginMs: 2000 }),
    );
    expect(Object.keys(resolved.providers ?? {})).toEqual(['kling']);
    expect(resolved.refreshTimeoutMs).toBe(5000);
    expect(resolved.safetyMarginMs).toBe(1000);
  });

  it('ignores the namespace when the options bring their providers', () => {
    const resolved = resolveTokenConfig(
      { providers },
      configService({ providers: { other: jwtProvider }, refreshTimeoutMs: 5000 }),
    );
    expect(Object.keys(resolved.providers ?? {})).toEqual(['kling']);
    expect(resolved.refreshTimeoutMs).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown]>([
    ['a store name in the options wins', { store: 'memory' }, { store: 'redis' }, 'memory'],
    [
      'a store instance in the options drops the namespace’s',
      { store: { get: () => undefined } },
      { store: 'redis' },
      undefined,
    ],
    ['no store in the options keeps the namespace’s', {}, { store: 'redis' }, 'redis'],
  ])('%s', (_case, options, token, store) => {
    const resolved = resolveTokenConfig(options as never, configService({ providers: {}, ...token }));
    expect(resolved.store).toBe(store);
  });

  it.each<[string, () => unknown, string]>([
    [
      'in the options',
      () => resolveTokenConfig(JSON.parse('{"refresh": {"__proto__": {}}}') as never),
      'token module options: "refresh.__proto__" is a reserved name and cannot be used as a key',
    ],
    [
      'in the namespace',
      () => resolveTokenConfig({}, configService(JSON.parse('{"refresh": {"__proto__": {}}}') as never)),
      'configuration namespace "token": "refresh.__proto__" is a reserved name and cannot be used as a key',
    ],
  ])('a reserved key %s is named with where it came from', (_case, run, message) => {
    expect(thrown(run).message).toBe(message);
  });

  // Top-level options read from the environment and handed to forRoot lost their variable (the loader
  // looked them up in its own copy of the options); providers, nested objects, kept theirs.
  it('names the environment variable of a mistake, whether the env config came as options or through the namespace', () => {
    const env = () =>
      tokenConfigFromEnv({ TOKEN__REFRESH_TIMEOUT_MS: '0', TOKEN__PROVIDERS__K__TYPE: 'jwt' });
    const message =
      'token module options: 2 mistakes:\n' +
      '  - token provider "k": "accessKey" must be a non-empty string (environment variable TOKEN__PROVIDERS__K__ACCESS_KEY)\n' +
      '  - "refreshTimeoutMs" must be greater than 0 (environment variable TOKEN__REFRESH_TIMEOUT_MS)';
    expect(thrown(() => resolveTokenConfig(env() as never)).message).toBe(message);
    expect(thrown(() => resolveTokenConfig({}, configService(env()))).message).toBe(message);
  });
});
