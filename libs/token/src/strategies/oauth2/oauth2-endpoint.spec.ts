import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  sendJson,
  startLoopbackServer,
  type LoopbackServer,
} from '../../testing-support/oauth2-loopback-server.js';
import { rejection } from '../../testing-support/rejection.js';
import { ManualClock } from '../../core/clock.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { oauth2ProviderSchema, type ParsedOAuth2Config } from '../../config/oauth2.options.js';
import { OAuth2ClientAuthenticator } from './oauth2-client-auth.js';
import { OAuth2Discovery } from './oauth2-discovery.js';
import { OAuth2Endpoint } from './oauth2-endpoint.js';

// Where token requests go: the configured tokenUrl, or the endpoint and auth method the issuer's
// metadata names (its mTLS alias when the provider has a client certificate).

const SECRET = 'Fz-SECRET-canary-7c1d';
// Only the presence of `mtls` matters here: no TLS connection is made.
const MTLS = {
  certificate: '-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n',
  privateKey: '-----BEGIN PRIVATE KEY-----\nMA==\n-----END PRIVATE KEY-----\n',
};

let server: LoopbackServer;
/** What the issuer's OpenID Connect location answers now. */
let document: Record<string, unknown>;
beforeAll(async () => {
  server = await startLoopbackServer((request, res) => {
    if (request.path === '/.well-known/openid-configuration') sendJson(res, 200, document);
    else sendJson(res, 404, {});
  });
});
afterAll(() => server.close());

const configOf = (extra: Record<string, unknown> = {}): ParsedOAuth2Config =>
  oauth2ProviderSchema.parse({
    type: 'oauth2',
    issuer: server.origin,
    clientId: 'svc',
    clientSecret: SECRET,
    ...extra,
  });

function endpointOf(config: ParsedOAuth2Config, clock = new ManualClock(), ttlMs?: number) {
  const discovery = new OAuth2Discovery(server.origin, { ttlMs }, false, clock, config.mtls !== undefined);
  const configured = new OAuth2ClientAuthenticator(config, 'https://unused.example/token', clock);
  return {
    endpoint: new OAuth2Endpoint(config, undefined, configured, discovery, clock),
    configured,
    discovery,
  };
}

const tokenEndpoint = () => `${server.origin}/token`;
const alias = 'https://127.0.0.1:9/mtls/token';

describe('OAuth2Endpoint', () => {
  it('without an issuer: the configured tokenUrl and authenticator, no metadata', async () => {
    const clock = new ManualClock();
    const config = oauth2ProviderSchema.parse({
      type: 'oauth2',
      tokenUrl: 'https://idp.example/token',
      clientId: 'svc',
      clientSecret: SECRET,
    });
    const authenticator = new OAuth2ClientAuthenticator(config, 'https://idp.example/token', clock);
    const endpoint = new OAuth2Endpoint(config, 'https://idp.example/token', authenticator, undefined, clock);
    const resolved = await endpoint.resolve();
    expect(resolved.url).toBe('https://idp.example/token');
    expect(resolved.authenticator).toBe(authenticator);
    expect(endpoint.metadata).toBeUndefined();
  });

  it('with an issuer: its token endpoint (not the alias, without a certificate) and the auth method it lists', async () => {
    document = {
      issuer: server.origin,
      token_endpoint: tokenEndpoint(),
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      mtls_endpoint_aliases: { token_endpoint: alias },
    };
    const { endpoint, configured, discovery } = endpointOf(configOf());
    expect(endpoint.metadata).toBeUndefined();

    const first = await endpoint.resolve();
    expect(first.url).toBe(tokenEndpoint());
    expect(first.authenticator).not.toBe(configured);
    expect(first.authenticator.method).toBe('client_secret_post');
    // The configured credentials went along with the method the issuer asks for.
    expect((await first.authenticator.authenticate()).params).toEqual({
      client_id: 'svc',
      client_secret: SECRET,
    });
    expect(endpoint.metadata).toBe(await discovery.metadata());
    expect(endpoint.metadata).toMatchObject({ token_endpoint: tokenEndpoint() });

    // Same metadata object: same authenticator.
    const second = await endpoint.resolve();
    expect(second.authenticator).toBe(first.authenticator);
    expect(second.url).toBe(tokenEndpoint());
  });

  it('new metadata (after the TTL) makes a new authenticator with the method it lists', async () => {
    const clock = new ManualClock(1_000_000);
    document = {
      issuer: server.origin,
      token_endpoint: tokenEndpoint(),
      token_endpoint_auth_methods_supported: ['client_secret_post'],
    };
    const { endpoint } = endpointOf(configOf(), clock, 60_000);
    const first = await endpoint.resolve();
    const firstMetadata = endpoint.metadata;
    expect(first.authenticator.method).toBe('client_secret_post');

    document = {
      issuer: server.origin,
      token_endpoint: `${server.origin}/token/v2`,
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
    };
    clock.advance(60_000);
    const second = await endpoint.resolve();
    expect(second.url).toBe(`${server.origin}/token/v2`);
    expect(second.authenticator).not.toBe(first.authenticator);
    expect(second.authenticator.method).toBe('client_secret_basic');
    expect(endpoint.metadata).not.toBe(firstMetadata);
    expect(endpoint.metadata).toMatchObject({ token_endpoint: `${server.origin}/token/v2` });
  });

  it('with a client certificate: the mTLS alias when the issuer has one, else the token endpoint', async () => {
    const config = configOf({ mtls: MTLS, clientAuth: 'tls_client_auth' });
    document = {
      issuer: server.origin,
      token_endpoint: tokenEndpoint(),
      mtls_endpoint_aliases: { token_endpoint: alias },
    };
    const withAlias = await endpointOf(config).endpoint.resolve();
    expect(withAlias.url).toBe(alias);
    expect(withAlias.authenticator.method).toBe('tls_client_auth');

    document = { issuer: server.origin, token_endpoint: 'https://127.0.0.1:9/token' };
    const withoutAlias = await endpointOf(config).endpoint.resolve();
    expect(withoutAlias.url).toBe('https://127.0.0.1:9/token');
  });

  it('a configured method the issuer does not list is refused when resolving', async () => {
    document = {
      issuer: server.origin,
      token_endpoint: tokenEndpoint(),
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
    };
    const { endpoint } = endpointOf(configOf({ clientAuth: 'client_secret_post' }));
    const error = await rejection(endpoint.resolve());
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    expect((error as InvalidTokenOptionsError).field).toBe('clientAuth');
    expect(endpoint.metadata).toBeUndefined();
  });
});
