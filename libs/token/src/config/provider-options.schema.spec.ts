import { describe, expect, it } from '@jest/globals';
import { parseProviderOptions } from './provider-options.schema.js';
import { thrownOptionsError } from '../testing-support/options-errors.js';

const thrown = thrownOptionsError;

describe('parseProviderOptions (the options of TokenService.register)', () => {
  it('returns the options it was given when they are valid', () => {
    const options = {
      safetyMarginMs: 1000,
      baseUrls: ['https://api.example.com'],
      strictOrigin: true,
      allowInsecureHttp: false,
    };
    expect(parseProviderOptions('kling', options)).toEqual(options);
    expect(parseProviderOptions('kling', {})).toEqual({});
  });

  it.each<[string, unknown, string]>([
    ['a negative margin', { safetyMarginMs: -1 }, 'safetyMarginMs'],
    ['a base URL that is not one', { baseUrls: ['not a url'] }, 'baseUrls.0'],
    ['a strictOrigin that is no boolean', { strictOrigin: 'yes' }, 'strictOrigin'],
  ])('refuses %s, naming the provider and the field', (_case, options, field) => {
    const error = thrown(() => parseProviderOptions('kling', options));
    expect(error.provider).toBe('kling');
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`token provider "kling": "${field}" `)).toBe(true);
  });
});
