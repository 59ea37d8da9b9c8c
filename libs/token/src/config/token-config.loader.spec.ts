/**
 * Keys that JavaScript treats specially: an own `__proto__` key (what `JSON.parse` makes of
 * `{"__proto__": …}`) is dropped by the schema library, and environment paths through
 * `constructor`/`prototype` used to walk into `Object` itself. Both are refused or kept as data.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { resolveTokenConfig, tokenConfigFromEnv } from './token-config.loader.js';
import { parseOrThrow } from './validation.js';
import { tokenConfigSchema } from './token.options.js';

function thrown(action: () => unknown): InvalidTokenOptionsError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    return error as InvalidTokenOptionsError;
  }
  throw new Error('expected an InvalidTokenOptionsError');
}

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
