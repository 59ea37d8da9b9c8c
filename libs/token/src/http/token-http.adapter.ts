import {
  AxiosError,
  AxiosHeaders,
  isAxiosError,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { axiosFetchAdapter, resolveAdapter } from './axios-adapter-resolution.js';
import { requestUrlOf } from './axios-request-url.js';
import { followRedirects, type HopTransport, type RedirectHop } from './redirect-follower.js';
import type { TokenRequestAuthorizer } from './token-request-authorizer.js';
import type { DpopRequestSigner } from './sender-constraints.js';
import type { TokenProvider } from '../core/token-source.js';

/** follow-redirects' default, which axios' http adapter uses when `maxRedirects` is not set. */
const DEFAULT_MAX_REDIRECTS = 21;

/** On our adapter functions: the state of the request they send. */
const STATE = Symbol.for('nest-token-manager:token-adapter');

/**
 * What a request (and its 401 retry, and its config sent again) shares with the adapter that sends it.
 * The adapter function travels with the config (axios copies `adapter` by reference when it merges
 * configs, and drops symbol keys), so the state lives on it.
 */
export interface TokenAdapterState {
  /** The adapter axios would have used: the config's own, before ours replaced it. */
  readonly inner: InternalAxiosRequestConfig['adapter'];
  /** The `@UseToken()` provider in effect when the request was made. */
  readonly contextProvider: string | undefined;
  /** Already retried after a 401: a second 401 goes to the caller. */
  readonly retried: boolean;
  /** What the adapter attached: the provider (asked for once), its token and the exact header value. */
  provider?: TokenProvider;
  token?: string;
  header?: string;
  /** Whether the final response came from a hop that still carried the token. */
  answeredWithToken?: boolean;
}

type TokenAdapter = AxiosAdapter & { readonly [STATE]: TokenAdapterState };
type Settled = { ok: true; response: AxiosResponse } | { ok: false; error: unknown };

/** The state of a request whose adapter is ours, else `undefined`. */
export function tokenAdapterStateOf(adapter: unknown): TokenAdapterState | undefined {
  return typeof adapter === 'function' ? (adapter as Partial<TokenAdapter>)[STATE] : undefined;
}

/**
 * The adapter that decides the token on the final config, after every request interceptor of the
 * application has run, and sends the request through the adapter axios would have used. A request
 * that carries the token has its redirects followed here, hop by hop (the inner adapter runs with
 * `maxRedirects: 0`), each hop's origin checked like the first: a hop outside the provider's origins
 * goes without the token (or, with `strictOrigin`, is refused), whatever follow-redirects or fetch
 * would have kept. Every hop is sent to the exact URL that was checked.
 */
export function createTokenAdapter(
  state: TokenAdapterState,
  authorizer: TokenRequestAuthorizer,
): AxiosAdapter {
  const adapter = ((config: InternalAxiosRequestConfig) => send(config, state, authorizer)) as TokenAdapter;
  Object.defineProperty(adapter, STATE, { value: state });
  return adapter;
}

async function send(
  config: InternalAxiosRequestConfig,
  state: TokenAdapterState,
  authorizer: TokenRequestAuthorizer,
): Promise<AxiosResponse> {
  const inner = resolveAdapter(state.inner);
  // An adapter resolved by name is the library's axios copy. The application's HttpService may run
  // another copy of the same axios (the CommonJS build beside the ESM one): give the adapter headers
  // of its own class, which axios before 1.7 cannot read from a foreign one (it sent none at all).
  if (typeof state.inner !== 'function' && !(config.headers instanceof AxiosHeaders)) {
    config.headers = headersOfThisCopy(config.headers);
  }
  const headers = config.headers;
  const ours = state.header !== undefined && headers.get('Authorization') === state.header;
  // A header the caller set is theirs; ours (a retry, a config sent again) is renewed from the cache.
  if (!ours && headers.has('Authorization')) return inner(config);
  const name =
    config.token === false
      ? undefined
      : typeof config.token === 'string'
        ? config.token
        : (state.contextProvider ?? state.provider?.name);
  // Asked once per request: its retry and a config sent again keep the provider it was sent for.
  const provider =
    name === undefined
      ? undefined
      : name === state.provider?.name
        ? state.provider
        : authorizer.provider(name);
  const url = requestUrlOf(config);
  // axios' fetch adapter ignores `httpsAgent`: it cannot present a client certificate.
  const withoutCertificate = inner === axiosFetchAdapter() ? "axios' fetch adapter" : undefined;
  const info =
    provider === undefined ? undefined : await authorizer.tokenFor(provider, url, withoutCertificate);
  if (provider === undefined || info === undefined || url === undefined) {
    if (ours) headers.delete('Authorization');
    if (ours) headers.delete('DPoP');
    state.header = undefined;
    return inner(config);
  }
  state.provider = provider;
  state.token = info.token;
  state.header = info.authorizationHeader;
  headers.set('Authorization', state.header);
  return follow(inner, config, url, provider, state, authorizer, authorizer.dpopSignerFor(provider, info));
}

/** Sends the hops through the adapter axios would have used, each with `maxRedirects: 0`. */
async function follow(
  inner: AxiosAdapter,
  config: InternalAxiosRequestConfig,
  url: URL,
  provider: TokenProvider,
  state: TokenAdapterState,
  authorizer: TokenRequestAuthorizer,
  dpop: DpopRequestSigner | undefined,
): Promise<AxiosResponse> {
  const limit = config.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  // `timeout` bounds the whole chain, as it does when follow-redirects follows it.
  const deadline = config.timeout ? Date.now() + config.timeout : undefined;
  // RFC 8705 §3: a certificate-bound token is sent over a connection with the client certificate,
  // and the certificate goes where the token goes, no further.
  const mtlsAgent = provider.senderConstraint?.mtlsAgent;
  let hop: InternalAxiosRequestConfig = {
    ...config,
    url: url.href,
    baseURL: undefined,
    maxRedirects: 0,
    headers: copyHeaders(config.headers),
    // axios' fetch adapter (1.7+) follows redirects inside fetch unless told not to.
    fetchOptions: { ...(config.fetchOptions as object | undefined), redirect: 'manual' },
  } as InternalAxiosRequestConfig;
  const transport: HopTransport<Settled> = {
    send(next, proof, retry) {
      if (!next.first && !retry) {
        hop = nextHop(hop, next);
        if (deadline !== undefined) hop.timeout = Math.max(1, deadline - Date.now());
      }
      hop.httpsAgent = next.carries ? (mtlsAgent ?? config.httpsAgent) : config.httpsAgent;
      if (proof === undefined) hop.headers.delete('DPoP');
      else hop.headers.set('DPoP', proof);
      return settle(inner(hop));
    },
    answerOf(settled) {
      const response = responseOf(settled);
      return response && { status: response.status, header: (name) => headerOf(response, name) };
    },
    sentStream: () => isStream(hop.data),
    discard: (settled) => discard(responseOf(settled)!),
    tooManyRedirects() {
      state.answeredWithToken = false;
      return new AxiosError('Maximum number of redirects exceeded', 'ERR_FR_TOO_MANY_REDIRECTS', config);
    },
  };
  const { outcome, carried } = await followRedirects(
    {
      url,
      method: hop.method ?? 'get',
      follows: limit > 0,
      maxRedirects: limit,
      mayCarryTo: (next) => authorizer.mayFollowRedirect(provider, next),
      dpop,
    },
    transport,
  );
  state.answeredWithToken = carried;
  return finish(outcome, config);
}

/** The config of the hop after `hop`: its URL and method, without what `next` drops. */
function nextHop(hop: InternalAxiosRequestConfig, next: RedirectHop): InternalAxiosRequestConfig {
  const headers = copyHeaders(hop.headers);
  for (const name of next.dropped(Object.keys(headers.toJSON()))) headers.delete(name);
  return {
    ...hop,
    url: next.url.href,
    params: undefined,
    method: next.method.toLowerCase(),
    headers,
    data: next.keepsBody ? hop.data : undefined,
    auth: next.crossOrigin ? undefined : hop.auth,
  } as InternalAxiosRequestConfig;
}

/** The response or error as axios' dispatch sees it: for the request the caller made. */
function finish(settled: Settled, config: InternalAxiosRequestConfig): AxiosResponse {
  if (settled.ok) {
    settled.response.config = config;
    return settled.response;
  }
  if (isAxiosError(settled.error)) settled.error.config = config;
  throw settled.error;
}

/** The response a hop got, as a success or inside axios' error for a refused status. */
function responseOf(settled: Settled): AxiosResponse | undefined {
  if (settled.ok) return settled.response;
  return isAxiosError(settled.error) ? settled.error.response : undefined;
}

function settle(promise: Promise<AxiosResponse>): Promise<Settled> {
  return promise.then(
    (response) => ({ ok: true, response }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** The same headers in the library's `AxiosHeaders` class, `false` markers ("never send") kept. */
function headersOfThisCopy(headers: InternalAxiosRequestConfig['headers']): AxiosHeaders {
  const copy = new AxiosHeaders();
  for (const [name, value] of Object.entries(headers)) copy.set(name, value as string, true);
  return copy;
}

function copyHeaders(headers: AxiosHeaders): AxiosHeaders {
  return new (headers.constructor as new (from: AxiosHeaders) => AxiosHeaders)(headers);
}

function headerOf(response: AxiosResponse, name: string): string | undefined {
  const headers = response.headers as { get?: (name: string) => unknown } & Record<string, unknown>;
  const value = typeof headers.get === 'function' ? headers.get(name) : headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A redirect's own body is not read: a stream of it is closed. */
function discard(response: AxiosResponse): void {
  const data = response.data as { destroy?: () => void; cancel?: () => Promise<void> } | null | undefined;
  if (typeof data?.destroy === 'function') data.destroy();
  else if (data instanceof ReadableStream) void data.cancel().catch(() => undefined);
}

/** A body that can be read once: a Node stream or a web `ReadableStream`. */
export function isStream(data: unknown): boolean {
  return (
    typeof data === 'object' &&
    data !== null &&
    (typeof (data as { pipe?: unknown }).pipe === 'function' || data instanceof ReadableStream)
  );
}
