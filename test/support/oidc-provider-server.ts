import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';

/**
 * panva's `oidc-provider` (a certified OpenID Connect / OAuth 2 server from npm) on 127.0.0.1:0,
 * as the real authorization server for the protocol tests: discovery, client credentials, custom
 * grants (`registerGrantType`), DPoP. Each test file starts its own instance with its own clients;
 * starting one takes a few milliseconds.
 */

/** One token endpoint call as the server answered it. */
export interface OidcTokenCall {
  grantType: string | undefined;
  status: number;
  /** Whether the request carried a `DPoP` header. */
  dpop: boolean;
}

export interface OidcServer {
  readonly issuer: string;
  readonly tokenUrl: string;
  /** With `tls`: the token endpoint behind the TLS listener that asks for client certificates. */
  readonly mtlsTokenUrl?: string;
  readonly provider: Provider;
  /** Token endpoint calls, in order. */
  readonly tokenCalls: OidcTokenCall[];
  /** Makes the discovery document answer 503 (`true`) or normally again (`false`). */
  setDiscoveryDown(down: boolean): void;
  /** How many times the discovery document was asked for. */
  discoveryCalls(): number;
  close(): Promise<void>;
}

export interface OidcServerOptions {
  clients: ClientMetadata[];
  /** Merged into the provider's `features`. */
  features?: Configuration['features'];
  /** Runs before the server listens: `registerGrantType` and the like. */
  setup?: (provider: Provider) => void;
  /** Scopes the server knows besides `openid` and `offline_access`. */
  scopes?: string[];
  /** Without `offline_access` (false) the server has no refresh tokens and does not list the grant. Default true. */
  offlineAccess?: boolean;
  /**
   * A second, TLS listener that asks for client certificates (trusting `ca`), published as the
   * `mtls_endpoint_aliases.token_endpoint`; mTLS client auth and certificate-bound tokens on.
   */
  tls?: { key: string; cert: string; ca: string };
  /** Client-credentials token lifetime. Default 3600 s. */
  ttlSeconds?: number;
  /** Algorithms the server accepts, e.g. `clientAuthSigningAlgValues` for HS384/HS512 client assertions. */
  enabledJWA?: Configuration['enabledJWA'];
}

/** Starts an oidc-provider issuer on a free loopback port. */
export async function startOidcServer(options: OidcServerOptions): Promise<OidcServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let tlsServer: TlsServer | undefined;
  let mtlsTokenUrl: string | undefined;
  if (options.tls) {
    tlsServer = createTlsServer({ ...options.tls, requestCert: true, rejectUnauthorized: false });
    await new Promise<void>((resolve) => tlsServer!.listen(0, '127.0.0.1', resolve));
    mtlsTokenUrl = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/token`;
  }
  const peerCertificate = (ctx: { socket: unknown }) => {
    const raw = (ctx.socket as Partial<TLSSocket>).getPeerCertificate?.()?.raw;
    return raw ? new X509Certificate(raw) : undefined;
  };
  const mtlsFeature: Configuration['features'] = options.tls
    ? {
        mTLS: {
          enabled: true,
          certificateBoundAccessTokens: true,
          tlsClientAuth: true,
          selfSignedTlsClientAuth: true,
          getCertificate: (ctx) => peerCertificate(ctx) as never,
          certificateAuthorized: (ctx) => (ctx.socket as TLSSocket).authorized === true,
          certificateSubjectMatches: (ctx, property, expected) =>
            property === 'tls_client_auth_subject_dn' && peerCertificate(ctx)?.subject === expected,
        },
      }
    : {};
  const provider = new Provider(issuer, {
    ...(mtlsTokenUrl
      ? {
          discovery: { mtls_endpoint_aliases: { token_endpoint: mtlsTokenUrl } },
          clientAuthMethods: [
            'client_secret_basic',
            'client_secret_post',
            'private_key_jwt',
            'tls_client_auth',
            'self_signed_tls_client_auth',
          ],
        }
      : {}),
    clients: options.clients,
    scopes: [
      'openid',
      ...(options.offlineAccess === false ? [] : ['offline_access']),
      ...(options.scopes ?? []),
    ],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      ...mtlsFeature,
      ...options.features,
    } as Configuration['features'],
    ttl: { ClientCredentials: options.ttlSeconds ?? 3600 },
    ...(options.enabledJWA ? { enabledJWA: options.enabledJWA } : {}),
    // The protocol tests never render a page; keep the server quiet and strict.
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  // Loopback over plain http: the library's own https rule is what the tests exercise, not the server's.
  provider.proxy = false;
  options.setup?.(provider);

  const tokenCalls: OidcTokenCall[] = [];
  let discoveryDown = false;
  let discoveryCount = 0;
  provider.use(async (ctx, next) => {
    if (
      ctx.path === '/.well-known/openid-configuration' ||
      ctx.path === '/.well-known/oauth-authorization-server'
    ) {
      discoveryCount++;
      if (discoveryDown) {
        ctx.status = 503;
        ctx.body = { error: 'temporarily_unavailable' };
        return;
      }
    }
    await next();
    if (ctx.path === '/token') {
      const body = (ctx.oidc?.params ?? {}) as { grant_type?: string };
      tokenCalls.push({ grantType: body.grant_type, status: ctx.status, dpop: ctx.get('dpop') !== '' });
    }
  });
  const callback = provider.callback();
  server.on('request', (request, response) => void callback(request, response));
  tlsServer?.on('request', (request, response) => void callback(request, response));

  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    mtlsTokenUrl,
    provider,
    tokenCalls,
    setDiscoveryDown: (down) => (discoveryDown = down),
    discoveryCalls: () => discoveryCount,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        tlsServer?.closeAllConnections();
        tlsServer?.close();
        server.close(() => resolve());
      }),
  };
}
