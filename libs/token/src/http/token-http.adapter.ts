import axios, {
  AxiosError,
  AxiosHeaders,
  isAxiosError,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { requestUrlOf } from './axios-request-url.js';
import {
  BODY_HEADER,
  nextHopMethod,
  nextHopUrl,
  ORIGIN_BOUND_HEADERS,
  REDIRECT_STATUSES,
} from './redirect-rules.js';
import type { TokenRequestAuthorizer } from './token-request-authorizer.js';
import type { DpopRequestSigner } from './sender-constraints.js';

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
  /** What the adapter attached: the provider, its token and the exact header value. */
  provider?: string;
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
  const provider =
    config.token === false
      ? undefined
      : typeof config.token === 'string'
        ? config.token
        : (state.contextProvider ?? state.provider);
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

async function follow(
  inner: AxiosAdapter,
  config: InternalAxiosRequestConfig,
  first: URL,
  provider: string,
  state: TokenAdapterState,
  authorizer: TokenRequestAuthorizer,
  dpop: DpopRequestSigner | undefined,
): Promise<AxiosResponse> {
  const limit = config.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  // `timeout` bounds the whole chain, as it does when follow-redirects follows it.
  const deadline = config.timeout ? Date.now() + config.timeout : undefined;
  let url = first;
  let carries = true;
  let hop: InternalAxiosRequestConfig = {
    ...config,
    url: url.href,
    baseURL: undefined,
    maxRedirects: 0,
    headers: copyHeaders(config.headers),
    // RFC 8705 §3: a certificate-bound token is sent over a connection with the client certificate.
    httpsAgent: authorizer.mtlsAgentFor(provider) ?? config.httpsAgent,
    // axios' fetch adapter (1.7+) follows redirects inside fetch unless told not to.
    fetchOptions: { ...(config.fetchOptions as object | undefined), redirect: 'manual' },
  } as InternalAxiosRequestConfig;
  for (let redirects = 0; ; redirects++) {
    const settled = await sendHop(inner, hop, url, carries ? dpop : undefined);
    const response = responseOf(settled);
    const location =
      limit > 0 && response !== undefined && REDIRECT_STATUSES.has(response.status)
        ? headerOf(response, 'location')
        : undefined;
    const next = location === undefined ? undefined : nextHopUrl(location, url);
    const { method, keepsBody } = nextHopMethod(response?.status ?? 0, hop.method ?? 'get');
    // A streamed body is gone after the first hop: its redirect goes to the caller unfollowed.
    if (next === undefined || response === undefined || (keepsBody && isStream(hop.data))) {
      state.answeredWithToken = carries;
      return finish(settled, config);
    }
    // Released before the limit check too: the caller never sees this redirect's body.
    discard(response);
    if (redirects >= limit) {
      state.answeredWithToken = false;
      throw new AxiosError('Maximum number of redirects exceeded', 'ERR_FR_TOO_MANY_REDIRECTS', config);
    }
    hop = nextHop(hop, url, next, method.toLowerCase(), keepsBody);
    if (deadline !== undefined) hop.timeout = Math.max(1, deadline - Date.now());
    if (carries && !authorizer.mayFollowRedirect(provider, next)) {
      hop.headers.delete('Authorization');
      carries = false;
      // The client certificate goes where the token goes, and no further.
      hop.httpsAgent = config.httpsAgent;
    }
    url = next;
  }
}

/**
 * Sends one hop. With DPoP, a new proof for this hop's method and URL (RFC 9449 §4.2); a 401
 * `use_dpop_nonce` is sent once more with the nonce the API gave (§9), unless the body was a stream.
 */
async function sendHop(
  inner: AxiosAdapter,
  hop: InternalAxiosRequestConfig,
  url: URL,
  dpop: DpopRequestSigner | undefined,
): Promise<Settled> {
  if (dpop === undefined) {
    hop.headers.delete('DPoP');
    return settle(inner(hop));
  }
  for (let attempt = 0; ; attempt++) {
    hop.headers.set('DPoP', await dpop.proof(hop.method ?? 'get', url));
    const settled = await settle(inner(hop));
    const response = responseOf(settled);
    if (response === undefined) return settled;
    const retry = dpop.askedForNonce(
      url,
      response.status,
      headerOf(response, 'dpop-nonce') ?? null,
      headerOf(response, 'www-authenticate') ?? null,
    );
    if (!retry || attempt > 0 || isStream(hop.data)) return settled;
    discard(response);
  }
}

function nextHop(
  hop: InternalAxiosRequestConfig,
  current: URL,
  next: URL,
  method: string,
  keepsBody: boolean,
): InternalAxiosRequestConfig {
  const headers = copyHeaders(hop.headers);
  if (!keepsBody) {
    for (const name of Object.keys(headers.toJSON())) if (BODY_HEADER.test(name)) headers.delete(name);
  }
  const crossOrigin = next.origin !== current.origin;
  if (crossOrigin) for (const name of ORIGIN_BOUND_HEADERS) headers.delete(name);
  return {
    ...hop,
    url: next.href,
    params: undefined,
    method,
    headers,
    data: keepsBody ? hop.data : undefined,
    auth: crossOrigin ? undefined : hop.auth,
  } as InternalAxiosRequestConfig;
}

let fetchAdapter: { adapter: AxiosAdapter | undefined } | undefined;

/** axios' fetch adapter, looked up once; undefined before axios 1.7, which has none. */
function axiosFetchAdapter(): AxiosAdapter | undefined {
  if (fetchAdapter === undefined) {
    try {
      fetchAdapter = { adapter: axios.getAdapter('fetch') };
    } catch {
      fetchAdapter = { adapter: undefined };
    }
  }
  return fetchAdapter.adapter;
}

/**
 * The adapter axios would use for `spec`: the config's function, else resolved by name with the
 * axios the library is installed with (the peer dependency, the application's one). An instance of
 * another axios copy that names its adapter gets that copy's adapter only if it passes the function.
 */
function resolveAdapter(spec: InternalAxiosRequestConfig['adapter']): AxiosAdapter {
  return typeof spec === 'function' ? spec : axios.getAdapter(spec ?? axios.defaults.adapter);
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
