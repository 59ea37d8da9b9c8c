import OAuth2Server from '@node-oauth/oauth2-server';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real, independent OAuth2 authorization server — `@node-oauth/oauth2-server`, with an in-memory
 * model — behind `node:http` on 127.0.0.1:0. `/token` is its token endpoint; `/resource` checks a
 * bearer token with the same library, proving a token the strategy got is one the server honours.
 */

export interface ReferenceClient {
  id: string;
  secret: string;
  /** Scopes the client may ask for; also its default scope. */
  scopes: string[];
  /** Issue a refresh token with client-credentials grants (the library does not by default). */
  refreshTokens?: boolean;
}

/** One token request, as the server saw and answered it. */
export interface ReferenceLogEntry {
  grantType: string | null;
  /** How the client authenticated: `Authorization: Basic`, or `client_secret` in the body. */
  clientAuth: 'basic' | 'post' | 'none';
  refreshTokenSent: string | null;
  status: number;
  error?: string;
}

export interface ReferenceServer {
  readonly tokenUrl: string;
  readonly resourceUrl: string;
  readonly log: ReferenceLogEntry[];
  /** Refresh tokens the server still honours. */
  readonly liveRefreshTokens: Set<string>;
  close(): Promise<void>;
}

interface StoredToken extends OAuth2Server.Token {
  refreshToken?: string;
}

export async function startReferenceServer(
  clients: ReferenceClient[],
  accessTokenLifetimeSeconds = 3600,
): Promise<ReferenceServer> {
  const accessTokens = new Map<string, StoredToken>();
  const refreshTokens = new Map<string, StoredToken>();
  const liveRefreshTokens = new Set<string>();
  const byId = new Map(clients.map((c) => [c.id, c]));

  const model: OAuth2Server.ClientCredentialsModel & OAuth2Server.RefreshTokenModel = {
    async getClient(clientId, clientSecret) {
      const client = byId.get(clientId);
      if (!client || client.secret !== clientSecret) return false;
      return {
        id: client.id,
        grants: client.refreshTokens ? ['client_credentials', 'refresh_token'] : ['client_credentials'],
      };
    },
    async getUserFromClient(client) {
      return { id: `service-account:${client.id}` };
    },
    async validateScope(_user, client, scope) {
      const allowed = byId.get(client.id)?.scopes ?? [];
      if (!scope || scope.length === 0) return allowed;
      return scope.every((s) => allowed.includes(s)) ? scope : false;
    },
    async saveToken(token, client, user) {
      const stored: StoredToken = { ...token, client, user };
      // The library only issues refresh tokens for grants that ask for one; the model may add one.
      if (!stored.refreshToken && byId.get(client.id)?.refreshTokens) {
        stored.refreshToken = randomBytes(16).toString('hex');
        stored.refreshTokenExpiresAt = new Date(Date.now() + 86_400_000);
      }
      accessTokens.set(stored.accessToken, stored);
      if (stored.refreshToken) {
        refreshTokens.set(stored.refreshToken, stored);
        liveRefreshTokens.add(stored.refreshToken);
      }
      return stored;
    },
    async getAccessToken(accessToken) {
      return accessTokens.get(accessToken) ?? false;
    },
    async getRefreshToken(refreshToken) {
      const stored = liveRefreshTokens.has(refreshToken) ? refreshTokens.get(refreshToken) : undefined;
      return stored ? { ...stored, refreshToken } : false;
    },
    async revokeToken(token) {
      return liveRefreshTokens.delete(token.refreshToken);
    },
  };
  const oauth = new OAuth2Server({ model, accessTokenLifetime: accessTokenLifetimeSeconds });
  const log: ReferenceLogEntry[] = [];

  const server = createServer(async (req, res) => {
    const body = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const request = new OAuth2Server.Request({
      method: req.method ?? 'GET',
      headers: req.headers as Record<string, string>,
      query: {},
      body,
    });
    const response = new OAuth2Server.Response({ headers: {} });
    let status = 200;
    let payload: unknown;
    try {
      if (req.url === '/token') {
        await oauth.token(request, response);
        payload = response.body;
      } else {
        const token = await oauth.authenticate(request, response);
        payload = { client: token.client.id, scope: token.scope };
      }
    } catch (error) {
      const e = error as OAuth2Server.OAuthError;
      status = e.code ?? 500;
      payload = { error: e.name, error_description: e.message };
    }
    if (req.url === '/token') {
      log.push({
        grantType: body.grant_type ?? null,
        clientAuth: req.headers.authorization?.startsWith('Basic ')
          ? 'basic'
          : body.client_secret
            ? 'post'
            : 'none',
        refreshTokenSent: body.refresh_token ?? null,
        status,
        error: status === 200 ? undefined : (payload as { error: string }).error,
      });
    }
    res.writeHead(status, { ...response.headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(payload));
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    tokenUrl: `${origin}/token`,
    resourceUrl: `${origin}/resource`,
    log,
    liveRefreshTokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
