import { Injectable } from '@nestjs/common';
import type { TokenSource } from '../core/token-source.js';
import type { TokenInfo } from '../core/token-info.js';
import { parseAbsoluteUrl } from './origin-policy.js';
import { currentTokenProvider } from './token-context.js';
import { discardBody, sendFollowingRedirects } from './token-fetch-redirects.js';
import { TokenRequestAuthorizer } from './token-request-authorizer.js';
import { insufficientScopeOf, isNonceChallenge } from './token-challenge.js';

/** `fetch`'s options plus the per-request `token` option: a provider name, or `false` for none. */
export type TokenFetchInit = RequestInit & { token?: string | false };

/**
 * A `fetch` that attaches the provider's token like the axios interceptor does.
 *
 * @publicApi
 */
export type TokenFetchFunction = (input: string | URL | Request, init?: TokenFetchInit) => Promise<Response>;

/** Options of {@link createTokenFetch}. @publicApi */
export interface TokenFetchOptions {
  /**
   * The `fetch` to call. Default: the global `fetch`, looked up on every call. For a provider with
   * certificate-bound tokens (`mtls`), it must honour undici's `init.dispatcher` (Node's does).
   */
  fetch?: typeof globalThis.fetch;
}

/**
 * Wraps `fetch` with the rules of the axios interceptor: the `Authorization` header for `provider`
 * (or, without one, the `@UseToken()` in effect; `init.token` overrides both), never to an origin the
 * provider does not allow, never over a header the caller set; on a 401, one retry with a fresh token
 * (not for a `ReadableStream` body, which cannot be sent twice); on an RFC 6750 `insufficient_scope`
 * answer, a thrown `TokenInsufficientScopeError` (no refresh, no retry). A DPoP provider's requests
 * carry a fresh proof per hop, and a 401 `use_dpop_nonce` is answered once with the API's nonce; an
 * mTLS provider's (RFC 8705 certificate-bound tokens), the client certificate (as the `dispatcher`
 * of the hops that carry the token, and of no other). A request that carries the token has
 * its redirects followed by the wrapper (the `fetch` underneath runs with `redirect: 'manual'`), each
 * hop's origin checked like the first; the caller's `redirect: 'manual'` or `'error'` is kept.
 *
 * @publicApi
 * @example
 * const klingFetch = createTokenFetch(tokenService, 'kling');
 * const response = await klingFetch('https://api.klingai.com/v1/videos/text2video', { method: 'POST', body });
 */
export function createTokenFetch(
  tokenService: TokenSource,
  provider?: string,
  options: TokenFetchOptions = {},
): TokenFetchFunction {
  return fetchWithTokens(new TokenRequestAuthorizer(tokenService), provider, options.fetch);
}

/**
 * Injectable access to {@link createTokenFetch}, sharing the module's origin warnings.
 *
 * @publicApi
 * @example
 * constructor(private readonly tokenFetch: TokenFetch) {}
 * await this.tokenFetch.fetch(url, { token: 'kling' });
 * const klingFetch = this.tokenFetch.forProvider('kling');
 */
@Injectable()
export class TokenFetch {
  /** Uses `init.token`, else the `@UseToken()` in effect; with neither, a plain `fetch`. */
  readonly fetch: TokenFetchFunction;

  constructor(private readonly authorizer: TokenRequestAuthorizer) {
    this.fetch = fetchWithTokens(authorizer, undefined, undefined);
  }

  /** A `fetch` bound to one provider (`init.token` still overrides it). */
  forProvider(provider: string, options: TokenFetchOptions = {}): TokenFetchFunction {
    return fetchWithTokens(this.authorizer, provider, options.fetch);
  }
}

function fetchWithTokens(
  authorizer: TokenRequestAuthorizer,
  boundProvider: string | undefined,
  fetchImpl: typeof globalThis.fetch | undefined,
): TokenFetchFunction {
  const send = (input: string | URL | Request, init: RequestInit) =>
    (fetchImpl ?? globalThis.fetch)(input, init);

  return async (input, init = {}) => {
    const { token: option, ...requestInit } = init;
    const name = option === false ? undefined : (option ?? boundProvider ?? currentTokenProvider());
    if (name === undefined) return send(input, requestInit);

    // As in `new Request(input, init)`: headers given in `init` replace the Request's own.
    const headers = new Headers(
      requestInit.headers ?? (input instanceof Request ? input.headers : undefined),
    );
    if (headers.has('authorization')) return send(input, requestInit);

    const url = input instanceof Request ? parseAbsoluteUrl(input.url) : parseAbsoluteUrl(String(input));
    // Asked once: every hop and the 401 retry use this provider's rules, constraint and token.
    const provider = authorizer.provider(name);
    const info = await authorizer.tokenFor(provider, url);
    if (info === undefined || url === undefined) return send(input, requestInit);
    // RFC 8705 §3: a certificate-bound token goes over connections with the client certificate.
    const certificate = await provider.senderConstraint?.mtlsDispatcher?.();

    const replayable = !(requestInit.body instanceof ReadableStream);
    // A Request's body can be read once; keep a copy for the retry (bodiless ones are reusable).
    const spare = replayable && input instanceof Request && input.body !== null ? input.clone() : input;
    const request = { send, authorizer, provider, url, init: requestInit, headers, certificate };
    // One attempt with `token`: its hops followed, and an insufficient_scope answer to it thrown.
    const attempt = async (body: string | URL | Request, token: TokenInfo) => {
      const header = token.authorizationHeader;
      const sent = await sendFollowingRedirects(
        request,
        body,
        header,
        authorizer.dpopSignerFor(provider, token),
      );
      if (sent.carried) await throwOnInsufficientScope(sent.response, header, name, url);
      return sent;
    };
    const first = await attempt(input, info);
    // Only a 401 to our token is ours to retry, not one from a hop the token did not go to.
    if (first.response.status !== 401 || !first.carried || !replayable) return first.response;
    if (isNonceChallenge(first.response.headers.get('www-authenticate'), info.authorizationHeader)) {
      return first.response;
    }

    await discardBody(first.response);
    const fresh = await provider.renewAfterUnauthorized(info.token);
    const retried = await attempt(spare, fresh);
    if (retried.carried && retried.response.status !== 401) provider.noteTokenAccepted(fresh.token);
    return retried.response;
  };
}

/** RFC 6750 §3.1 `insufficient_scope`: a typed error instead of the response; no refresh, no retry. */
async function throwOnInsufficientScope(
  response: Response,
  authorizationHeader: string,
  provider: string,
  url: URL,
): Promise<void> {
  const error = insufficientScopeOf(
    response.status,
    response.headers.get('www-authenticate'),
    authorizationHeader,
    provider,
    url.origin,
  );
  if (error === undefined) return;
  await discardBody(response);
  throw error;
}
