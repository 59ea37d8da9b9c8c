import {
  BODY_HEADER,
  nextHopMethod,
  nextHopUrl,
  ORIGIN_BOUND_HEADERS,
  REDIRECT_STATUSES,
} from './redirect-rules.js';
import type { TokenRequestAuthorizer } from './token-request-authorizer.js';
import type { DpopRequestSigner } from './sender-constraints.js';

/** The fetch standard's limit. */
const MAX_REDIRECTS = 20;

/** One request that carries a token, as the fetch wrapper sends it. */
export interface TokenFetchRequest {
  readonly send: (input: string | URL | Request, init: RequestInit) => Promise<Response>;
  readonly authorizer: TokenRequestAuthorizer;
  readonly provider: string;
  readonly url: URL;
  /** The caller's init, without `token`. */
  readonly init: RequestInit;
  /** The request's headers (the init's, else the Request's), without `Authorization`. */
  readonly headers: Headers;
}

/** DPoP: a proof per hop that carries the token, and one retry on a 401 `use_dpop_nonce`. */
async function sendHop(
  request: TokenFetchRequest,
  dpop: DpopRequestSigner | undefined,
  input: string | URL | Request,
  init: RequestInit & { headers: Headers },
  url: URL,
  method: string,
): Promise<Response> {
  if (dpop === undefined) {
    init.headers.delete('dpop');
    return request.send(input, init);
  }
  // A Request's body is read by the first attempt: a copy for the nonce retry.
  const spare = input instanceof Request && input.body !== null ? input.clone() : input;
  for (let attempt = 0; ; attempt++) {
    init.headers.set('dpop', await dpop.proof(method, url));
    const response = await request.send(attempt === 0 ? input : spare, init);
    const retry = dpop.askedForNonce(
      url,
      response.status,
      response.headers.get('dpop-nonce'),
      response.headers.get('www-authenticate'),
    );
    if (!retry || attempt > 0 || init.body instanceof ReadableStream) return response;
    await discardBody(response);
  }
}

/**
 * Sends `input` with `header` and, unless the caller asked for `redirect: 'manual'`, follows its
 * redirects itself (the `fetch` underneath runs with `redirect: 'manual'`), the origin of each hop
 * checked like the first: a hop outside the provider's origins goes without the token (with
 * `strictOrigin`, the redirect is refused with `TokenOriginError`), whatever the `fetch` in use would
 * have kept. `carried` says whether the final response answered a hop that carried the token.
 */
export async function sendFollowingRedirects(
  request: TokenFetchRequest,
  input: string | URL | Request,
  header: string,
  dpop?: DpopRequestSigner,
): Promise<{ response: Response; carried: boolean }> {
  const { init } = request;
  const mode = init.redirect ?? (input instanceof Request ? input.redirect : 'follow');
  // A Request's body is read by the first hop: a copy is kept for a 307/308.
  const bodySource =
    mode !== 'manual' && input instanceof Request && input.body !== null ? input.clone() : undefined;
  let headers = new Headers(request.headers);
  headers.set('authorization', header);
  let method = (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  let response = await sendHop(
    request,
    dpop,
    input,
    { ...init, headers, redirect: 'manual' },
    request.url,
    method,
  );
  if (mode === 'manual') return { response, carried: true };

  let url = request.url;
  let carries = true;
  let body: RequestInit['body'] = init.body;
  for (let redirects = 0; ; redirects++) {
    const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
    const next = location === null ? undefined : nextHopUrl(location, url);
    if (next === undefined) return { response, carried: carries };
    const hop = nextHopMethod(response.status, method);
    // A streamed body is gone after the first hop: its redirect goes to the caller unfollowed.
    if (hop.keepsBody && body instanceof ReadableStream) return { response, carried: carries };
    await discardBody(response);
    if (mode === 'error') throw new TypeError('fetch failed: a redirect with redirect mode "error"');
    if (redirects >= MAX_REDIRECTS) throw new TypeError('fetch failed: too many redirects');

    headers = new Headers(headers);
    if (hop.keepsBody) {
      if (body === undefined && bodySource !== undefined) body = await bodySource.clone().arrayBuffer();
    } else {
      body = undefined;
      for (const name of [...headers.keys()]) if (BODY_HEADER.test(name)) headers.delete(name);
    }
    if (next.origin !== url.origin) for (const name of ORIGIN_BOUND_HEADERS) headers.delete(name);
    if (carries && !request.authorizer.mayFollowRedirect(request.provider, next)) {
      headers.delete('authorization');
      carries = false;
    }
    method = hop.method;
    url = next;
    response = await sendHop(
      request,
      carries ? dpop : undefined,
      next.href,
      {
        ...init,
        signal: init.signal ?? (input instanceof Request ? input.signal : undefined),
        method,
        headers,
        body,
        redirect: 'manual',
      },
      next,
      method,
    );
  }
}

/** Drops a response's body unread: a web stream (fetch) or a Node stream (node-fetch and the like). */
export async function discardBody(response: Response): Promise<void> {
  const body = response.body as { cancel?: () => Promise<void>; destroy?: () => void } | null;
  if (typeof body?.cancel === 'function') await body.cancel().catch(() => undefined);
  else if (typeof body?.destroy === 'function') body.destroy();
}
