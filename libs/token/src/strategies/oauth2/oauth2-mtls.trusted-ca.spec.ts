import { describe, expect, it } from '@jest/globals';
import { rootCertificates } from 'node:tls';
import { trustedCertificates } from './oauth2-mtls.js';

describe('mtls.ca', () => {
  it('without it, Node trusts its public roots as usual', () => {
    expect(trustedCertificates(undefined)).toBeUndefined();
  });

  it('adds the private CA to the public roots instead of replacing them', () => {
    const privateCa = '-----BEGIN CERTIFICATE-----\nprivate-ca\n-----END CERTIFICATE-----\n';
    const trusted = trustedCertificates(privateCa);
    expect(trusted).toHaveLength(rootCertificates.length + 1);
    expect(trusted).toEqual(expect.arrayContaining([...rootCertificates, privateCa]));
  });
});
