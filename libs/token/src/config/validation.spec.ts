import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { describeZodIssue, markValidated, parseOrThrow, validatedOr } from './validation.js';
import { thrownOptionsError } from '../testing-support/options-errors.js';

/** The message `parseOrThrow` gives for `value` against `schema` (subject "test"). */
function messageOf(schema: z.ZodType, value: unknown): string {
  try {
    parseOrThrow(schema, value, 'test');
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    return (error as Error).message;
  }
  throw new Error('parsed');
}

const field = (schema: z.ZodType) => z.object({ f: schema });

describe('parseOrThrow: zod issues in plain words, naming the field', () => {
  it.each<[string, z.ZodType, unknown, string]>([
    ['a missing field', z.string(), undefined, '"f" is required'],
    ['a string', z.string(), 5, '"f" must be a string'],
    ['a number', z.number(), 'x', '"f" must be a number'],
    ['a whole number', z.int(), 1.5, '"f" must be a whole number'],
    ['a boolean', z.boolean(), 'x', '"f" must be true or false'],
    ['a list', z.array(z.string()), 'x', '"f" must be a list'],
    ['an object', z.object({}), 'x', '"f" must be an object'],
    ['a record', z.record(z.string(), z.string()), 'x', '"f" must be an object'],
    ['a type without words of its own', z.bigint(), 'x', '"f" must be bigint'],
    ['one of a set of values', z.enum(['jwt', 'oauth2']), 'x', '"f" must be one of jwt, oauth2'],
    ['a literal', z.literal(7), 8, '"f" must be one of 7'],
    ['a number at least', z.number().min(2), 1, '"f" must be at least 2'],
    ['a number greater than', z.number().gt(2), 2, '"f" must be greater than 2'],
    ['a number at most', z.number().max(2), 3, '"f" must be at most 2'],
    ['a number less than', z.number().lt(2), 2, '"f" must be less than 2'],
    ['a whole number at least', z.int().min(1), 0, '"f" must be at least 1'],
    ['a bigint at least', z.bigint().min(3n), 1n, '"f" must be at least 3'],
    ['a non-empty string', z.string().min(1), '', '"f" must not be empty'],
    ['a string at least 3 long', z.string().min(3), 'ab', '"f" must be at least 3 characters long'],
    ['a string at most 2 long', z.string().max(2), 'abc', '"f" must be at most 2 characters long'],
    ['a string of exactly 2', z.string().length(2), 'abc', '"f" must be at most 2 characters long'],
    ['a non-empty list', z.array(z.string()).min(1), [], '"f" must not be an empty list'],
    ['a list of at least 2', z.array(z.string()).min(2), ['a'], '"f" must list at least 2 entries'],
    ['a list of at most 1', z.array(z.string()).max(1), ['a', 'b'], '"f" must list at most 1 entries'],
    ['a non-empty set', z.set(z.string()).min(1), new Set(), '"f" must not be an empty list'],
    ['a set of at most 1', z.set(z.string()).max(1), new Set(['a', 'b']), '"f" must list at most 1 entries'],
    ['an absolute URL', z.url(), 'not a url', '"f" must be an absolute URL'],
    ['an e-mail address', z.email(), 'nobody', '"f" must be a valid email'],
    [
      'a string or a list',
      z.union([z.string().min(1), z.array(z.string())]),
      5,
      '"f" must be a string or a list',
    ],
    ['a message the schema sets itself', z.string({ error: 'is wrong here' }), 5, '"f" is wrong here'],
  ])('%s', (_case, schema, value, message) => {
    expect(messageOf(field(schema), { f: value })).toBe(`test: ${message}`);
  });

  it('a date out of bounds keeps zod’s own words (no plain ones for it)', () => {
    const message = messageOf(field(z.date().min(new Date(2_000_000_000_000))), { f: new Date(0) });
    expect(message).toMatch(/^test: "f" /);
    expect(message).not.toMatch(/must be at least|characters|entries/);
  });

  it('a union whose alternatives say nothing in plain words keeps zod’s own', () => {
    const message = messageOf(field(z.union([z.string().regex(/^a$/), z.string().regex(/^b$/)])), { f: 'c' });
    expect(message).toMatch(/^test: "f" /);
    expect(message).not.toMatch(/must be $/);
  });

  it.each<[string, z.ZodType, string]>([
    [
      'leaves out an alternative whose words are not "must be …"',
      z.union([z.string({ error: 'is not text' }), z.number()]),
      'test: "f" must be a number',
    ],
    ['says the same words once', z.union([z.string(), z.string().min(2)]), 'test: "f" must be a string'],
  ])('a union %s', (_case, schema, message) => {
    expect(messageOf(field(schema), { f: true })).toBe(message);
  });

  it('a union none of whose alternatives says "must be …" keeps zod’s own words', () => {
    const message = messageOf(
      field(z.union([z.string({ error: 'is not text' }), z.number({ error: 'is no number' })])),
      { f: true },
    );
    expect(message).toMatch(/^test: "f" /);
    expect(message).not.toMatch(/must be|is not text|is no number/);
  });

  it('a discriminated union names the kinds it knows, missing or wrong', () => {
    const kind = z.discriminatedUnion('type', [
      z.object({ type: z.literal('jwt') }),
      z.object({ type: z.literal('oauth2') }),
    ]);
    expect(messageOf(kind, {})).toBe('test: "type" is required: one of jwt, oauth2');
    expect(messageOf(kind, { type: 'saml' })).toBe('test: "type" must be one of jwt, oauth2');
  });

  it('an unknown option is a mistake of its own, one per key, named by its path', () => {
    const strict = z.strictObject({ a: z.string() });
    expect(messageOf(strict, { a: 'x', b: 1 })).toBe('test: "b" is not an option');
    expect(messageOf(z.object({ inner: strict }), { inner: { a: 'x', b: 1, c: 2 } })).toBe(
      'test: 2 mistakes:\n  - "inner.b" is not an option\n  - "inner.c" is not an option',
    );
  });

  it('lists every mistake, the error naming the first', () => {
    const error = (() => {
      try {
        parseOrThrow(z.object({ a: z.string(), b: z.number() }), {}, 'settings');
      } catch (caught) {
        return caught as InvalidTokenOptionsError;
      }
      throw new Error('parsed');
    })();
    expect(error.message).toBe('settings: 2 mistakes:\n  - "a" is required\n  - "b" is required');
    expect(error.field).toBe('a');
    expect(error.provider).toBeUndefined();
  });

  it('a mistake under providers.<name> names the provider and the field', () => {
    const schema = z.object({ providers: z.record(z.string(), z.object({ clientId: z.string() })) });
    const error = thrownOptionsError(() =>
      parseOrThrow(schema, { providers: { kling: {} } }, 'token configuration'),
    );
    expect(error.message).toBe('token provider "kling": "clientId" is required');
    expect(error.provider).toBe('kling');
    expect(error.field).toBe('clientId');
  });

  it('a provider wrong as a whole is named with the field "type"', () => {
    const schema = z.object({ providers: z.record(z.string(), z.object({ a: z.string() })) });
    const error = thrownOptionsError(() =>
      parseOrThrow(schema, { providers: { kling: 5 } }, 'token configuration'),
    );
    expect(error.message).toBe('token provider "kling": must be an object');
    expect(error.provider).toBe('kling');
    expect(error.field).toBe('type');
  });

  it('a wrong "providers" as a whole is a mistake of the configuration, not of a provider', () => {
    const schema = z.object({ providers: z.record(z.string(), z.object({ a: z.string() })) });
    const error = thrownOptionsError(() => parseOrThrow(schema, { providers: 5 }, 'token configuration'));
    expect(error.message).toBe('token configuration: "providers" must be an object');
    expect(error.provider).toBeUndefined();
    expect(error.field).toBe('providers');
  });

  it('a mistake of the whole value has no field', () => {
    const error = thrownOptionsError(() => parseOrThrow(z.string(), 5, 'value'));
    expect(error.message).toBe('value: must be a string');
    expect(error.field).toBeUndefined();
  });

  it('names the environment variable behind a path when the context knows it', () => {
    const variableOf = (path: readonly PropertyKey[]) => (path[0] === 'a' ? 'TOKEN__A' : undefined);
    expect(() =>
      parseOrThrow(z.object({ a: z.string(), b: z.string() }), { b: 'x' }, 'test', { variableOf }),
    ).toThrow(new InvalidTokenOptionsError('test: "a" is required (environment variable TOKEN__A)'));
    expect(() => parseOrThrow(z.object({ b: z.string() }), {}, 'test', { variableOf })).toThrow(
      new InvalidTokenOptionsError('test: "b" is required'),
    );
  });

  it('returns what the schema makes of a valid value', () => {
    expect(
      parseOrThrow(z.object({ a: z.string().transform((s) => s.length) }), { a: 'abc' }, 'test'),
    ).toEqual({
      a: 3,
    });
  });
});

describe('parseOrThrow refuses an own __proto__ key before zod drops it', () => {
  it.each<[string, unknown, string, string | undefined, string]>([
    [
      'at the top',
      JSON.parse('{"__proto__": {"x": 1}}'),
      'test: "__proto__" is a reserved name and cannot be used as a key',
      undefined,
      '__proto__',
    ],
    [
      'as a provider name',
      JSON.parse('{"providers": {"__proto__": {"type": "jwt"}}}'),
      'token provider "__proto__": is a reserved name and cannot be used as a key',
      '__proto__',
      'name',
    ],
    [
      'deep in a provider',
      JSON.parse('{"providers": {"kling": {"claims": {"__proto__": 1}}}}'),
      'token provider "kling": "claims.__proto__" is a reserved name and cannot be used as a key',
      'kling',
      'claims.__proto__',
    ],
    [
      'in a list',
      JSON.parse('{"list": [{"ok": 1}, {"__proto__": 1}]}'),
      'test: "list.1.__proto__" is a reserved name and cannot be used as a key',
      undefined,
      'list.1.__proto__',
    ],
    [
      'in a null-prototype object',
      Object.assign(Object.create(null), JSON.parse('{"a": {"__proto__": 1}}')),
      'test: "a.__proto__" is a reserved name and cannot be used as a key',
      undefined,
      'a.__proto__',
    ],
  ])('%s', (_case, value, message, provider, fieldName) => {
    const error = thrownOptionsError(() => parseOrThrow(z.any(), value, 'test'));
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error.message).toBe(message);
    expect(error.provider).toBe(provider);
    expect(error.field).toBe(fieldName);
  });

  it('looks into plain objects and lists only, and survives cycles', () => {
    class Holder {
      constructor(readonly inner: unknown) {}
    }
    const inside = new Holder(JSON.parse('{"__proto__": 1}'));
    expect(parseOrThrow(z.any(), { holder: inside }, 'test')).toEqual({ holder: inside });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    cyclic.again = { back: cyclic };
    expect(() => parseOrThrow(z.any(), cyclic, 'test')).not.toThrow();
    expect(() => parseOrThrow(z.any(), 'text', 'test')).not.toThrow();
    expect(() => parseOrThrow(z.any(), null, 'test')).not.toThrow();
  });
});

describe('describeZodIssue', () => {
  it('quotes the dotted path before the message, or gives the message alone', () => {
    const issue = (path: PropertyKey[]) =>
      ({ path, message: 'must be a string' }) as unknown as z.core.$ZodIssue;
    expect(describeZodIssue(issue(['providers', 'kling', 0]))).toEqual({
      field: 'providers.kling.0',
      message: '"providers.kling.0" must be a string',
    });
    expect(describeZodIssue(issue([]))).toEqual({ field: '', message: 'must be a string' });
  });
});

describe('validatedOr', () => {
  it('hands back an object that came out of a parse as it is, and parses anything else', () => {
    const parsed = markValidated({ a: 1 });
    let parses = 0;
    const parse = () => {
      parses++;
      return { a: 2 };
    };
    expect(validatedOr(parsed, parse)).toBe(parsed);
    expect(parses).toBe(0);
    expect(validatedOr({ a: 1 }, parse)).toEqual({ a: 2 });
    expect(validatedOr(null, parse)).toEqual({ a: 2 });
    expect(validatedOr('text', parse)).toEqual({ a: 2 });
    expect(parses).toBe(3);
  });
});
