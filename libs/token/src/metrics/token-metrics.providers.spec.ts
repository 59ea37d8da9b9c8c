import { describe, expect, it } from '@jest/globals';
import { describeRequestParameters } from '../core/token-request-parameters.js';
import { ProviderLabels } from './token-metrics.providers.js';

describe('ProviderLabels without a provider list', () => {
  it.each([
    ['scope', { scope: 'read write' }],
    ['audience', { audience: 'https://api' }],
    ['resource', { resource: ['https://a', 'https://b'] }],
    ['tenant', { tenant: 'acme' }],
    ['per-call subject token', { subjectToken: 'user-subject-token' }],
    ['several', { scope: 'read', tenant: 'acme', subjectToken: 'other-subject' }],
  ])('a variant for %s is labelled with its provider', (_label, parameters) => {
    const labels = new ProviderLabels(undefined);
    expect(labels.labelOf(`orders (${describeRequestParameters(parameters)})`)).toBe('orders');
  });

  it('a provider name that merely has parentheses keeps them', () => {
    expect(new ProviderLabels(undefined).labelOf('orders (eu)')).toBe('orders (eu)');
  });
});
