import { describe, expect, it } from '@jest/globals';
import { addressScope, discoveredEndpointProblem } from './discovered-endpoint.js';

const hostOf = (url: string) => new URL(url).hostname;

describe('addressScope', () => {
  it.each([
    ['https://169.254.169.254/', 'link-local'],
    ['https://169.254.0.1/', 'link-local'],
    ['https://0xa9fea9fe/', 'link-local'], // 169.254.169.254 as the URL parser reads it
    ['https://[fe80::1]/', 'link-local'],
    ['https://[febf:ffff::1]/', 'link-local'],
    ['https://[::ffff:169.254.169.254]/', 'link-local'],
    ['https://localhost/', 'loopback'],
    ['https://127.0.0.2/', 'loopback'],
    ['https://2130706433/', 'loopback'], // 127.0.0.1
    ['https://[::1]/', 'loopback'],
    ['https://[::ffff:127.0.0.1]/', 'loopback'],
    ['https://0.0.0.0/', 'loopback'],
    ['https://[::]/', 'loopback'],
    ['https://[fec0::1]/', 'other'],
    ['https://169.255.0.1/', 'other'],
    ['https://10.0.0.1/', 'other'],
    ['https://auth.example.com/', 'other'],
    ['https://169.254.169.254.nip.io/', 'other'], // a name: not resolved here (documented)
  ])('%s is %s', (url, scope) => {
    expect(addressScope(hostOf(url))).toBe(scope);
  });
});

describe('discoveredEndpointProblem', () => {
  const rules = (issuer: string, allowLocalEndpoints = false) => ({ issuer, allowLocalEndpoints });

  it('refuses link-local whatever the issuer, loopback only from an issuer off loopback', () => {
    expect(
      discoveredEndpointProblem('https://169.254.169.254/t', rules('http://127.0.0.1:1'), false),
    ).toMatch(/link-local/);
    expect(discoveredEndpointProblem('http://127.0.0.1:9/t', rules('https://idp.example'), false)).toMatch(
      /loopback address named by an issuer that is not on this machine/,
    );
    expect(
      discoveredEndpointProblem('http://127.0.0.1:9/t', rules('http://localhost:9'), false),
    ).toBeUndefined();
    expect(
      discoveredEndpointProblem('https://idp.example/t', rules('https://idp.example'), false),
    ).toBeUndefined();
  });

  it('allowLocalEndpoints accepts either; the certificate still needs https', () => {
    expect(
      discoveredEndpointProblem('https://169.254.169.254/t', rules('https://idp.example', true), false),
    ).toBeUndefined();
    expect(
      discoveredEndpointProblem('http://127.0.0.1:9/t', rules('https://idp.example', true), false),
    ).toBeUndefined();
    expect(
      discoveredEndpointProblem('http://127.0.0.1:9/t', rules('http://127.0.0.1:9', true), true),
    ).toMatch(/must use https: .*client certificate/);
    expect(
      discoveredEndpointProblem('https://idp.example/t', rules('https://idp.example'), true),
    ).toBeUndefined();
    expect(
      discoveredEndpointProblem('https://127.0.0.1:9/t', rules('http://127.0.0.1:9', true), true),
    ).toBeUndefined();
  });

  it('never repeats the URL (its query may carry a secret)', () => {
    const problem = discoveredEndpointProblem(
      'https://169.254.169.254/t?k=s3cr3t',
      rules('https://a.b'),
      true,
    );
    expect(problem).not.toContain('s3cr3t');
    expect(problem).not.toContain('169.254');
  });
});
