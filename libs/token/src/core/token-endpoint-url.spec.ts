import { describe, expect, it } from '@jest/globals';
import { InvalidTokenOptionsError } from './token.errors.js';
import { describeEndpoint, fillTenant, isLoopbackHostname, tokenUrlProblem } from './token-endpoint-url.js';

describe('isLoopbackHostname', () => {
  it.each(['localhost', 'LOCALHOST', '[::1]', '::1', '127.0.0.1', '127.255.255.254', '127.10.200.3'])(
    '%s is loopback',
    (host) => expect(isLoopbackHostname(host)).toBe(true),
  );

  it.each([
    'localhost.example.com',
    'example.com',
    '[::2]',
    '10.0.0.1',
    '128.0.0.1',
    // Not anchored at either end, these would pass for loopback.
    '1127.0.0.1',
    '127.0.0.1.example.com',
    '127.0.0.1000',
    '',
  ])('%s is not', (host) => expect(isLoopbackHostname(host)).toBe(false));

  it('takes the hostname the URL parser gives, whatever the written form', () => {
    for (const url of ['http://127.1/', 'http://0x7f.0.0.1/', 'http://[::1]:8080/', 'http://LocalHost/']) {
      expect(isLoopbackHostname(new URL(url).hostname)).toBe(true);
    }
  });
});

describe('tokenUrlProblem', () => {
  it('accepts https anywhere and http on loopback', () => {
    expect(tokenUrlProblem('https://auth.example.com/token')).toBeUndefined();
    expect(tokenUrlProblem('http://127.0.0.1:8080/token')).toBeUndefined();
    expect(tokenUrlProblem('http://localhost/token')).toBeUndefined();
    expect(tokenUrlProblem('http://[::1]/token')).toBeUndefined();
  });

  it('refuses plain http to another host unless allowInsecureHttp', () => {
    expect(tokenUrlProblem('http://auth.example.com/token')).toBe(
      'must use https (plain http is allowed only for loopback hosts or with "allowInsecureHttp: true")',
    );
    expect(tokenUrlProblem('http://auth.example.com/token', true)).toBeUndefined();
  });

  it('names each problem without repeating the URL', () => {
    expect(tokenUrlProblem('not a url?secret=abc')).toBe('must be an absolute URL');
    expect(tokenUrlProblem('ftp://auth.example.com/token?secret=abc')).toBe('must be an http(s) URL');
    expect(tokenUrlProblem('file:///etc/passwd')).toBe('must be an http(s) URL');
    const credentials = 'must not contain credentials (use clientId/clientSecret)';
    expect(tokenUrlProblem('https://user:pass@auth.example.com/token')).toBe(credentials);
    expect(tokenUrlProblem('https://user@auth.example.com/token')).toBe(credentials);
    expect(tokenUrlProblem('https://:pass@auth.example.com/token')).toBe(credentials);
    expect(tokenUrlProblem('https://user:pass@auth.example.com/token', true)).toBe(credentials);
  });
});

describe('describeEndpoint', () => {
  it('keeps origin and path, drops query, fragment and credentials', () => {
    expect(describeEndpoint('https://user:pw@auth.example.com:8443/oauth/token?secret=s#frag')).toBe(
      'https://auth.example.com:8443/oauth/token',
    );
  });

  it('says "the token endpoint" for what is not a URL', () => {
    expect(describeEndpoint('secret-value-not-a-url')).toBe('the token endpoint');
  });
});

describe('fillTenant', () => {
  it('replaces every {tenant}, as written or as the URL parser encodes it, with the encoded tenant', () => {
    expect(fillTenant('https://login.example.com/{tenant}/oauth2/{TENANT}/token', 'a b/c')).toBe(
      'https://login.example.com/a%20b%2Fc/oauth2/a%20b%2Fc/token',
    );
    expect(fillTenant('https://login.example.com/%7Btenant%7D/token', 'contoso')).toBe(
      'https://login.example.com/contoso/token',
    );
  });

  it('has no URL until a tenant is given for a URL with a placeholder', () => {
    expect(fillTenant('https://login.example.com/{tenant}/token', undefined)).toBeUndefined();
  });

  it('keeps a URL without placeholder as it is', () => {
    expect(fillTenant('https://auth.example.com/token', undefined)).toBe('https://auth.example.com/token');
  });

  it('refuses a tenant when the URL has nowhere to put it, naming the field', () => {
    let thrown: unknown;
    try {
      fillTenant('https://auth.example.com/token', 'contoso');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidTokenOptionsError);
    expect((thrown as Error).message).toContain('oauth2 "tenant" needs a {tenant} placeholder in "tokenUrl"');
    expect(thrown).toMatchObject({ field: 'tenant' });
  });
});
