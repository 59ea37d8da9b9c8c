import { describe, expect, it } from '@jest/globals';
import { grantTypesOf, unlistedGrantTypes } from './oauth2-grant-support.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const metadata = (grants?: string[]) => ({
  issuer: 'https://login.example.com',
  token_endpoint: 'https://login.example.com/token',
  grant_types_supported: grants,
});
const jwtBearer = { privateKey: 'unused here' };
const tokenExchange = { subjectToken: () => 'subject' };

describe('grant types of a provider vs grant_types_supported', () => {
  it.each([
    [{}, ['client_credentials']],
    [{ useRefreshToken: false }, ['client_credentials']],
    [{ useRefreshToken: true }, ['client_credentials', 'refresh_token']],
    [{ jwtBearer }, [JWT_BEARER]],
    [{ tokenExchange, useRefreshToken: true }, [TOKEN_EXCHANGE, 'refresh_token']],
  ])('%j uses %j', (config, grants) => {
    expect(grantTypesOf(config as never)).toEqual(grants);
  });

  it('only what a list leaves out; nothing without a list', () => {
    const config = { jwtBearer, useRefreshToken: true } as never;
    expect(unlistedGrantTypes(config, metadata(['authorization_code']))).toEqual([
      JWT_BEARER,
      'refresh_token',
    ]);
    expect(unlistedGrantTypes(config, metadata([JWT_BEARER]))).toEqual(['refresh_token']);
    expect(unlistedGrantTypes(config, metadata([JWT_BEARER, 'refresh_token']))).toEqual([]);
    expect(unlistedGrantTypes(config, metadata(undefined))).toEqual([]);
    expect(unlistedGrantTypes({} as never, metadata([]))).toEqual(['client_credentials']);
  });
});
