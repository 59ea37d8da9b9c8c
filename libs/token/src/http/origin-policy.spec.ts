import { describe, expect, it } from '@jest/globals';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import { checkTokenOrigin, parseAbsoluteUrl } from './origin-policy.js';

const verdictOf = (url: string, options: ProviderOptions) => checkTokenOrigin(parseAbsoluteUrl(url), options);
const kling: ProviderOptions = { baseUrls: ['https://api.klingai.com/v1', 'https://api-2.klingai.com:8443'] };

describe('checkTokenOrigin', () => {
  it.each([
    ['https://api.klingai.com/v1/videos', true],
    ['https://api.klingai.com/other/path?q=1', true], // only scheme, host and port count
    ['https://api.klingai.com:443/v1', true], // default port
    ['https://API.KlingAI.com/v1', true], // host case
    ['https://api-2.klingai.com:8443/x', true],
    ['https://api-2.klingai.com/x', false], // other port
    ['http://api.klingai.com/v1', false], // other scheme
    ['https://api.klingai.com.evil.com/v1', false],
    ['https://evil.com/https://api.klingai.com/v1', false],
    ['https://user@evil.com/', false],
  ])('baseUrls: %s → allowed %s', (url, allowed) => {
    expect(verdictOf(url, kling).allowed).toBe(allowed);
  });

  it.each<[string, ProviderOptions, boolean]>([
    ['https://anywhere.example/x', {}, true],
    ['http://127.0.0.1:8080/x', {}, true],
    ['http://127.4.5.6/x', {}, true],
    ['http://localhost:3000/x', {}, true],
    ['http://[::1]:3000/x', {}, true],
    ['http://example.com/x', {}, false],
    ['http://10.0.0.1/x', {}, false],
    ['http://example.com/x', { allowInsecureHttp: true }, true],
    ['http://example.com/x', { baseUrls: ['http://example.com'] }, false], // baseUrls do not lift the https rule
    ['http://example.com/x', { baseUrls: ['http://example.com'], allowInsecureHttp: true }, true],
    ['ftp://example.com/x', {}, false],
    ['file:///etc/passwd', {}, false],
  ])('%s with %j → allowed %s', (url, options, allowed) => {
    expect(verdictOf(url, options).allowed).toBe(allowed);
  });

  it('refuses URLs it cannot resolve, and says why without the path', () => {
    expect(checkTokenOrigin(undefined, {})).toEqual({
      allowed: false,
      origin: 'unknown',
      reason: 'the request URL is not absolute',
    });
    expect(parseAbsoluteUrl('/relative')).toBeUndefined();
    const verdict = verdictOf('https://evil.com/path?secret=1', kling);
    expect(verdict).toMatchObject({ allowed: false, origin: 'https://evil.com' });
    expect(JSON.stringify(verdict)).not.toContain('secret');
  });
});

describe('checkTokenOrigin verdicts', () => {
  // A new options object per case: the origins of baseUrls are worked out once per object.
  it.each<[string, ProviderOptions, { allowed: boolean; origin: string; reason?: string }]>([
    ['https://a.example/x', {}, { allowed: true, origin: 'https://a.example' }],
    [
      'https://b.example/x',
      { baseUrls: ['https://a.example'] },
      { allowed: false, origin: 'https://b.example', reason: 'the origin is not in "baseUrls"' },
    ],
    [
      'https://a.example:443/x',
      { baseUrls: ['https://a.example/v1'] },
      { allowed: true, origin: 'https://a.example' },
    ],
    ['https://a.example/x', { baseUrls: [] }, { allowed: true, origin: 'https://a.example' }],
    [
      'ftp://a.example/x',
      {},
      { allowed: false, origin: 'ftp://a.example', reason: 'only http(s) requests carry tokens' },
    ],
    [
      'http://a.example/x',
      {},
      {
        allowed: false,
        origin: 'http://a.example',
        reason: 'plain http is allowed only to loopback hosts or with "allowInsecureHttp: true"',
      },
    ],
    [
      'http://a.example/x',
      { allowInsecureHttp: false },
      {
        allowed: false,
        origin: 'http://a.example',
        reason: 'plain http is allowed only to loopback hosts or with "allowInsecureHttp: true"',
      },
    ],
  ])('%s with %j → %j', (url, options, verdict) => {
    expect(checkTokenOrigin(parseAbsoluteUrl(url), options)).toEqual(verdict);
  });
});
