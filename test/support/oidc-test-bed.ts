import { HttpModule, HttpService } from '@nestjs/axios';
import type { ModuleMetadata } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll } from '@jest/globals';
import { isAxiosError } from 'axios';
import type { ClientMetadata } from 'oidc-provider';
import { TokenFetch, TokenService } from '../../libs/token/src/index.js';
import { startOidcServer, type OidcServer, type OidcServerOptions } from './oidc-provider-server.js';
import { startResourceServer, type ResourceServer } from './oidc-resource-server.js';

/**
 * The set-up the protocol e2e tests share: oidc-provider client metadata, and the issuer, its
 * proof-checking APIs and a Nest application (HttpModule + the test's TokenModule) started and
 * closed together.
 */

/**
 * A machine-to-machine client for oidc-provider: no redirect URIs, no response types, the
 * client-credentials grant unless `metadata.grant_types` says otherwise.
 */
export function oidcClient(
  clientId: string,
  metadata: Omit<ClientMetadata, 'client_id'> = {},
): ClientMetadata {
  return {
    client_id: clientId,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    ...metadata,
  };
}

/** How a test request is sent: the axios integration (its http or fetch adapter) or the fetch wrapper. */
export type ApiClient = 'axios' | 'axios-fetch' | 'fetch';

export interface ApiRequest {
  /** Default GET. */
  method?: string;
  body?: string;
  /** The provider whose token the request carries. */
  provider: string;
}

export interface OidcTestBed {
  readonly issuer: OidcServer;
  /** The first of {@link apis}. */
  readonly api: ResourceServer;
  readonly apis: readonly ResourceServer[];
  readonly app: TestingModule;
  readonly tokens: TokenService;
  readonly http: HttpService;
  readonly tokenFetch: TokenFetch;
  /** One request through `client`; its final status. Rejects as the client does (axios on 4xx/5xx). */
  send(client: ApiClient, url: string, request: ApiRequest): Promise<number>;
  close(): Promise<void>;
}

export interface OidcTestBedOptions extends OidcServerOptions {
  /** How many resource servers to start. Default 1. */
  apis?: number;
  /** What the application imports besides `HttpModule` (the TokenModule), given the running servers. */
  imports(issuer: OidcServer, apis: readonly ResourceServer[]): NonNullable<ModuleMetadata['imports']>;
}

/** Starts the issuer, the APIs and an initialized application; `close()` stops all three. */
export async function startOidcTestBed(options: OidcTestBedOptions): Promise<OidcTestBed> {
  const { apis: count = 1, imports, ...server } = options;
  const issuer = await startOidcServer(server);
  const apis: ResourceServer[] = [];
  let app: TestingModule | undefined;
  const close = async () => {
    await app?.close();
    for (const api of apis) await api.close();
    await issuer.close();
  };
  try {
    for (let i = 0; i < count; i++) apis.push(await startResourceServer(issuer.provider));
    app = await Test.createTestingModule({ imports: [HttpModule, ...imports(issuer, apis)] }).compile();
    await app.init();
  } catch (error) {
    await close();
    throw error;
  }
  const http = app.get(HttpService);
  const tokenFetch = app.get(TokenFetch);
  const send = async (client: ApiClient, url: string, { method = 'GET', body, provider }: ApiRequest) => {
    if (client === 'fetch') return (await tokenFetch.fetch(url, { method, body, token: provider })).status;
    const adapter = client === 'axios-fetch' ? { adapter: 'fetch' as const } : {};
    const response = await http.axiosRef.request({ url, method, data: body, token: provider, ...adapter });
    return response.status;
  };
  return {
    issuer,
    api: apis[0],
    apis,
    app,
    tokens: app.get(TokenService),
    http,
    tokenFetch,
    send,
    close,
  };
}

/** The status an axios error carried, for a test that expects the refusal; any other error as is. */
export function statusOfRefusal(error: unknown): unknown {
  return isAxiosError(error) ? error.response?.status : error;
}

/**
 * For the suites whose clients carry `jwks` (mTLS): oidc-provider clones client metadata with
 * `structuredClone`, which under Jest is Node's and makes objects of the outer realm; its own
 * `constructor === Object` check of `jwks.keys` then fails. JSON-shaped data only is cloned there,
 * so a same-realm clone is equivalent. Call at the top of a `describe`.
 */
export function useSameRealmStructuredClone(): void {
  const nativeClone = globalThis.structuredClone;
  beforeAll(() => {
    globalThis.structuredClone = (<T>(value: T): T =>
      JSON.parse(JSON.stringify(value)) as T) as typeof structuredClone;
  });
  afterAll(() => {
    globalThis.structuredClone = nativeClone;
  });
}
