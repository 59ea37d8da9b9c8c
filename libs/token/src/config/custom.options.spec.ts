import { describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { customProviderSchema } from './custom.options.js';
import { resolveTokenConfig } from './token-config.loader.js';
import { schemaIssues } from '../testing-support/options-errors.js';

class VaultStrategy {}
const factory = () => new VaultStrategy();
const TOKEN = Symbol('PAYMENTS_TOKEN_STRATEGY');

const issues = (value: unknown) => schemaIssues(customProviderSchema, value);

const exactlyOne = {
  path: 'useClass',
  message: 'exactly one of useClass, useFactory, useExisting is required',
  code: 'custom',
};

describe('customProviderSchema: exactly one of useClass, useFactory, useExisting', () => {
  it.each<[string, Record<string, unknown>]>([
    ['useClass', { useClass: VaultStrategy }],
    ['useFactory without inject', { useFactory: factory }],
    [
      'useFactory with inject of a class, a string and a symbol',
      { useFactory: factory, inject: [VaultStrategy, 'VAULT', TOKEN] },
    ],
    ['useExisting as a string', { useExisting: 'PAYMENTS_TOKEN_STRATEGY' }],
    ['useExisting as a symbol', { useExisting: TOKEN }],
    ['useExisting as a class', { useExisting: VaultStrategy }],
    [
      'useClass with the others explicitly undefined',
      { useClass: VaultStrategy, useFactory: undefined, useExisting: undefined },
    ],
  ])('accepts %s', (_case, options) => {
    expect(issues({ type: 'custom', ...options })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['none of them', {}],
    ['useClass and useFactory', { useClass: VaultStrategy, useFactory: factory }],
    ['useClass and useExisting', { useClass: VaultStrategy, useExisting: 'X' }],
    ['useFactory and useExisting', { useFactory: factory, useExisting: 'X' }],
    ['all three', { useClass: VaultStrategy, useFactory: factory, useExisting: 'X' }],
    ['inject alone', { inject: ['VAULT'] }],
  ])('refuses %s, on "useClass"', (_case, options) => {
    expect(issues({ type: 'custom', ...options })).toEqual([exactlyOne]);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a useClass that is no class', { useClass: 'VaultStrategy' }, 'useClass', 'must be a class'],
    ['a useClass that is an object', { useClass: {} }, 'useClass', 'must be a class'],
    ['a useFactory that is no function', { useFactory: 42 }, 'useFactory', 'must be a function'],
  ])('refuses %s', (_case, options, path, message) => {
    expect(issues({ type: 'custom', ...options })).toContainEqual(expect.objectContaining({ path, message }));
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a null useExisting', { useExisting: null }, 'useExisting'],
    ['a null inject entry', { useFactory: factory, inject: ['VAULT', null] }, 'inject.1'],
    ['an undefined inject entry', { useFactory: factory, inject: [undefined] }, 'inject.0'],
  ])('refuses %s, naming it', (_case, options, path) => {
    const found = issues({ type: 'custom', ...options });
    expect(found.map((issue) => issue.path)).toContain(path);
  });

  it('refuses an unknown option', () => {
    expect(issues({ type: 'custom', useClass: VaultStrategy, useValue: {} }).map((i) => i.code)).toEqual([
      'unrecognized_keys',
    ]);
  });

  it('a custom provider without a strategy is a start-up error naming the provider and "useClass"', () => {
    let error: InvalidTokenOptionsError | undefined;
    try {
      resolveTokenConfig({ providers: { vault: { type: 'custom' } } });
    } catch (caught) {
      error = caught as InvalidTokenOptionsError;
    }
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect(error?.message).toBe(
      'token provider "vault": "useClass" exactly one of useClass, useFactory, useExisting is required',
    );
    expect(error?.provider).toBe('vault');
    expect(error?.field).toBe('useClass');
  });

  it('a custom provider keeps its class, factory and injection tokens as given', () => {
    const resolved = resolveTokenConfig({
      providers: { vault: { type: 'custom', useFactory: factory as never, inject: [VaultStrategy, TOKEN] } },
    });
    expect(resolved.providers?.vault).toMatchObject({
      type: 'custom',
      useFactory: factory,
      inject: [VaultStrategy, TOKEN],
    });
  });
});
