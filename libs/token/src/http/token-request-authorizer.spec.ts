import { afterEach, describe, expect, it } from '@jest/globals';
import { LogCapture } from '../../../../test/support/log-capture.js';
import { TokenInfo } from '../token-info.js';
import { TokenService } from '../token.service.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';

describe('TokenRequestAuthorizer', () => {
  let logs: LogCapture;
  afterEach(() => logs.restore());

  function setup(baseUrls?: string[]) {
    logs = new LogCapture().install();
    const service = new TokenService();
    service.register(
      'api',
      {
        cacheKey: 'api',
        generate: async () => new TokenInfo({ token: 'access-7f3a9', expiresAt: Date.now() + 60_000 }),
      },
      { baseUrls },
    );
    return new TokenRequestAuthorizer(service);
  }

  it('warns once that a provider without baseUrls is not bound to an origin', async () => {
    const authorizer = setup();
    await authorizer.tokenFor('api', new URL('https://a.example/x'));
    await authorizer.tokenFor('api', new URL('https://b.example/y'));
    const warnings = logs.lines.filter((line) => line.includes('has no baseUrls'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('access-7f3a9');
  });

  it('says nothing of the kind for a bound provider', async () => {
    const authorizer = setup(['https://a.example']);
    await expect(authorizer.tokenFor('api', new URL('https://a.example/x'))).resolves.toMatchObject({
      token: 'access-7f3a9',
    });
    expect(logs.lines.some((line) => line.includes('has no baseUrls'))).toBe(false);
  });
});
