import { Agent, request as httpRequest } from 'node:http';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OAuth2Client as BadgatewayClient, OAuth2Fetch } from '@badgateway/oauth2-client';
import { OAuth2Client as GoogleOAuth2Client } from 'google-auth-library';
import { ClientCredentials, type AccessToken } from 'simple-oauth2';
import { BENCH_CLIENT } from './client-credentials.js';

/**
 * A token client under test, reduced to "give me a token": each adapter uses its library the way its
 * documentation does. `getToken` resolves to the access token string or an object holding it.
 */
export interface TokenClient {
  readonly name: string;
  /** Whether concurrent callers on a cold cache share one token request. */
  readonly singleFlight: boolean;
  /** Most callers the herd scenario may start at once, for clients that open one socket per caller. */
  readonly maxHerdCallers?: number;
  getToken(): Promise<unknown>;
  close?(): void;
}

/** `createTokenCycler` as `@azure/core-rest-pipeline` uses it inside `bearerTokenAuthenticationPolicy`. */
type AccessTokenGetter = (
  scopes: string | string[],
  options: Record<string, unknown>,
) => Promise<{ token: string } | null>;
type CreateTokenCycler = (
  credential: {
    getToken(scopes: string | string[]): Promise<{ token: string; expiresOnTimestamp: number } | null>;
  },
  options?: Record<string, number>,
) => AccessTokenGetter;

/**
 * The package exports only the policy, so the cycler module is loaded from its file beside the package
 * entry (same code the policy runs).
 */
async function loadAzureTokenCycler(): Promise<CreateTokenCycler> {
  const entry = fileURLToPath(import.meta.resolve('@azure/core-rest-pipeline'));
  const cyclerFile = join(dirname(entry), 'util', 'tokenCycler.js');
  const module = (await import(pathToFileURL(cyclerFile).href)) as { createTokenCycler: CreateTokenCycler };
  return module.createTokenCycler;
}

async function postForm(
  tokenUrl: string,
  form: Record<string, string>,
): Promise<{ access_token: string; expires_in: number }> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return (await response.json()) as { access_token: string; expires_in: number };
}

/** Azure SDK: a `TokenCredential` doing client credentials, behind the SDK's token cycler (default windows). */
export async function azureTokenCycler(tokenUrl: string): Promise<TokenClient> {
  const createTokenCycler = await loadAzureTokenCycler();
  const credential = {
    async getToken() {
      const body = await postForm(tokenUrl, {
        grant_type: 'client_credentials',
        client_id: BENCH_CLIENT.clientId,
        client_secret: BENCH_CLIENT.clientSecret,
      });
      return { token: body.access_token, expiresOnTimestamp: Date.now() + body.expires_in * 1000 };
    },
  };
  const cycler = createTokenCycler(credential);
  const scopes = 'https://bench.example/.default';
  const options = {};
  return { name: 'azure token cycler', singleFlight: true, getToken: () => cycler(scopes, options) };
}

/** `@badgateway/oauth2-client`: `OAuth2Fetch` over `client.clientCredentials()`, as its README sets it up. */
export function badgatewayOAuth2Fetch(origin: string): TokenClient {
  const client = new BadgatewayClient({
    server: origin,
    tokenEndpoint: '/oauth/token',
    clientId: BENCH_CLIENT.clientId,
    clientSecret: BENCH_CLIENT.clientSecret,
    authenticationMethod: 'client_secret_post',
  });
  const wrapper = new OAuth2Fetch({
    client,
    getNewToken: () => client.clientCredentials(),
    scheduleRefresh: false,
  });
  return { name: 'badgateway OAuth2Fetch', singleFlight: true, getToken: () => wrapper.getToken() };
}

/** Connection pool for clients that send one request per caller (so 10,000 callers do not open 10,000 sockets). */
export function boundedAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 256 });
}

/**
 * `simple-oauth2` with the caching its README shows: keep the `AccessToken`, refresh when `expired(window)`.
 * Its HTTP client (wreck) deep-copies any agent it is given and opens one socket per request, so the
 * herd scenario starts at most 2,000 of its callers at once (10,000 would run out of file descriptors).
 */
export function simpleOAuth2Cached(origin: string, windowSeconds = 300): TokenClient {
  const client = new ClientCredentials({
    client: { id: BENCH_CLIENT.clientId, secret: BENCH_CLIENT.clientSecret },
    auth: { tokenHost: origin, tokenPath: '/oauth/token' },
  });
  let accessToken: AccessToken | undefined;
  return {
    name: 'simple-oauth2 + README cache',
    singleFlight: false,
    maxHerdCallers: 2_000,
    async getToken() {
      if (accessToken === undefined || accessToken.expired(windowSeconds))
        accessToken = await client.getToken({});
      return accessToken;
    },
  };
}

/** `google-auth-library`'s `OAuth2Client` (refresh-token grant to a configurable token URL). */
export function googleOAuth2Client(tokenUrl: string): TokenClient {
  const client = new GoogleOAuth2Client({
    clientId: BENCH_CLIENT.clientId,
    clientSecret: BENCH_CLIENT.clientSecret,
    endpoints: { oauth2TokenUrl: tokenUrl },
  });
  client.setCredentials({ refresh_token: 'bench-refresh-token' });
  return {
    name: 'google-auth-library OAuth2Client',
    singleFlight: true,
    getToken: () => client.getAccessToken(),
  };
}

/** No cache at all: one token request per caller. */
export function naiveFetchEveryTime(tokenUrl: string): TokenClient {
  const agent = boundedAgent();
  const url = new URL(tokenUrl);
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: BENCH_CLIENT.clientId,
    client_secret: BENCH_CLIENT.clientSecret,
  }).toString();
  const getToken = () =>
    new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            if (response.statusCode !== 200)
              return reject(new Error(`token endpoint answered ${response.statusCode}`));
            resolve((JSON.parse(Buffer.concat(chunks).toString()) as { access_token: string }).access_token);
          });
          response.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { name: 'naive fetch every time', singleFlight: false, getToken, close: () => agent.destroy() };
}
