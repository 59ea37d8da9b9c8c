import { followRedirects, type HopTransport, type RedirectHop } from './redirect-follower.js';
import type { TokenRequestAuthorizer } from './token-request-authorizer.js';
import type { DpopRequestSigner } from './sender-constraints.js';
import type { FetchDispatcher } from '../core/sender-constraint.js';
import type { TokenProvider } from '../core/token-source.js';

/** The fetch standard's limit. */
const MAX_REDIRECTS = 20;

/** One request that carries a token, as the fetch wrapper sends it. */
export interface TokenFetchRequest {
  readonly send: (input: string | URL | Request, init: RequestInit) => Promise<Response>;
  readonly authorizer: TokenRequestAuthorizer;
  readonly provider: TokenProvider;
  readonly url: URL;
  /** The caller's init, without `token`. */
  readonly init: RequestInit;
  /** The request's headers (the init's, else the Request's), without `Authorization`. */
  readonly headers: Headers;
  /** The client certificate's dispatcher, for the hops that carry a certificate-bound token. */
  readonly certificate?: FetchDispatcher;
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
  const { outcome, carried } = await followRedirects(
    {
      url: request.url,
      method: init.method ?? (input instanceof Request ? input.method : 'GET'),
      follows: mode !== 'manual',
      maxRedirects: mode === 'error' ? 0 : MAX_REDIRECTS,
      mayCarryTo: (next) => request.authorizer.mayFollowRedirect(request.provider, next),
      dpop,
    },
    fetchTransport(request, input, header, mode),
  );
  return { response: outcome, carried };
}

/** Sends the hops with `fetch`: the caller's `input` first, then each `Location` with `redirect: 'manual'`. */
function fetchTransport(
  request: TokenFetchRequest,
  input: string | URL | Request,
  header: string,
  mode: RequestInit['redirect'],
): HopTransport<Response> {
  const { init } = request;
  // A Request's body is read by the first hop: a copy is kept for a 307/308.
  const bodySource =
    mode !== 'manual' && input instanceof Request && input.body !== null ? input.clone() : undefined;
  // A Request's body is read by the first attempt: a copy for the first hop's DPoP nonce retry.
  let spare: string | URL | Request | undefined;
  let headers = new Headers(request.headers);
  headers.set('authorization', header);
  let body: RequestInit['body'] = init.body;
  return {
    async send(hop: RedirectHop, proof: string | undefined, retry: boolean) {
      if (!hop.first && !retry) {
        headers = new Headers(headers);
        for (const name of hop.dropped([...headers.keys()])) headers.delete(name);
        if (!hop.keepsBody) body = undefined;
        else if (body === undefined && bodySource !== undefined) {
          body = await bodySource.clone().arrayBuffer();
        }
      }
      if (proof === undefined) headers.delete('dpop');
      else headers.set('dpop', proof);
      // The certificate goes where the token goes, and no further; elsewhere, the caller's dispatcher.
      // (`object`: `RequestInit` has a `dispatcher` in Node's types only, not in the DOM's.)
      const dispatcher: object =
        hop.carries && request.certificate ? { dispatcher: request.certificate } : {};
      if (hop.first) {
        if (!retry && proof !== undefined) {
          spare = input instanceof Request && input.body !== null ? input.clone() : input;
        }
        const first = { ...init, headers, redirect: 'manual' as const, ...dispatcher };
        return request.send(retry ? (spare ?? input) : input, first);
      }
      return request.send(hop.url.href, {
        ...init,
        signal: init.signal ?? (input instanceof Request ? input.signal : undefined),
        method: hop.method,
        headers,
        body,
        redirect: 'manual',
        ...dispatcher,
      });
    },
    answerOf: (response) => ({
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
    }),
    sentStream: () => body instanceof ReadableStream,
    discard: discardBody,
    tooManyRedirects: () =>
      new TypeError(
        mode === 'error'
          ? 'fetch failed: a redirect with redirect mode "error"'
          : 'fetch failed: too many redirects',
      ),
  };
}

/** Drops a response's body unread: a web stream (fetch) or a Node stream (node-fetch and the like). */
export async function discardBody(response: Response): Promise<void> {
  const body = response.body as { cancel?: () => Promise<void>; destroy?: () => void } | null;
  if (typeof body?.cancel === 'function') await body.cancel().catch(() => undefined);
  else if (typeof body?.destroy === 'function') body.destroy();
}
