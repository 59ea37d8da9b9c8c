/**
 * Stable error codes; `switch (err.code)` on them.
 *
 * @publicApi
 */
export type TokenErrorCode =
  | 'TOKEN_PROVIDER_NOT_FOUND'
  | 'TOKEN_ACQUISITION_FAILED'
  | 'TOKEN_ENDPOINT_ERROR'
  | 'TOKEN_INVALID_OPTIONS'
  | 'TOKEN_INVALID_RESPONSE'
  | 'TOKEN_REQUEST_FAILED'
  | 'TOKEN_ORIGIN_NOT_ALLOWED'
  | 'TOKEN_SENDER_CONSTRAINT'
  | 'TOKEN_UNDECRYPTABLE'
  | 'TOKEN_INSUFFICIENT_SCOPE';

/**
 * Base class of every error the library throws. Messages never contain a secret or a token value.
 *
 * @publicApi
 */
export abstract class TokenError extends Error {
  abstract readonly code: TokenErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * No provider is registered under that name.
 *
 * @publicApi
 */
export class TokenProviderNotFoundError extends TokenError {
  readonly code = 'TOKEN_PROVIDER_NOT_FOUND';

  constructor(readonly provider: string) {
    super(`token provider "${provider}" is not registered`);
  }
}

/**
 * No valid token could be had for a provider; `cause` says why (an endpoint error, a timeout…).
 *
 * @publicApi
 */
export class TokenAcquisitionError extends TokenError {
  readonly code = 'TOKEN_ACQUISITION_FAILED';

  constructor(
    readonly provider: string,
    cause: unknown,
  ) {
    super(`token provider "${provider}": could not get a token: ${describeCause(cause)}`, { cause });
  }
}

/**
 * The token endpoint answered with an error (RFC 6749 §5.2) or a non-2xx status. Only what the
 * library could vet is kept: the `error` code when it reads as one (`invalid_client`), the
 * description with every run that could carry key material replaced, and the body's kind and size,
 * never its text. Without an `error` code the message names the endpoint (no query) and the body:
 * `token endpoint https://as.example.com/oauth/token returned 500 (HTML, 2.1 kB)`.
 *
 * @publicApi
 */
export class TokenEndpointError extends TokenError {
  readonly code = 'TOKEN_ENDPOINT_ERROR';

  constructor(
    readonly status: number,
    readonly error: string | undefined,
    readonly errorDescription: string | undefined,
    /** What the body was, its kind and size (`HTML, 2.1 kB`, `no body`); never its text. */
    readonly body?: string,
    /** The endpoint's origin and path, without query or fragment. */
    readonly endpoint?: string,
  ) {
    super(
      error
        ? `token endpoint returned ${status} ${error}` + (errorDescription ? `: ${errorDescription}` : '')
        : `token endpoint${endpoint ? ` ${endpoint}` : ''} returned ${status}` +
            (body ? ` (${body})` : '') +
            (errorDescription ? `: ${errorDescription}` : ''),
    );
  }
}

/**
 * The token endpoint's answer could not be understood (not JSON, no `access_token`, bad `expires_in`…).
 *
 * @publicApi
 */
export class TokenResponseError extends TokenError {
  readonly code = 'TOKEN_INVALID_RESPONSE';
}

/**
 * The request to the token endpoint failed before an answer came: network error, timeout, body too large.
 *
 * @publicApi
 */
export class TokenRequestError extends TokenError {
  readonly code = 'TOKEN_REQUEST_FAILED';
}

/**
 * Configuration or registration options are invalid. The message names the provider and the field,
 * never the value.
 *
 * @publicApi
 */
export class InvalidTokenOptionsError extends TokenError {
  readonly code = 'TOKEN_INVALID_OPTIONS';

  constructor(
    message: string,
    readonly provider?: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * The HTTP integration refused to send a provider's token: the request goes to an origin outside the
 * provider's `baseUrls` (with `strictOrigin: true`), or over plain `http` to a host that is not loopback.
 * The message names the origin only, never the path or query.
 *
 * @publicApi
 */
export class TokenOriginError extends TokenError {
  readonly code = 'TOKEN_ORIGIN_NOT_ALLOWED';

  constructor(
    readonly provider: string,
    /** `https://host:port`, or `'unknown'` when the request URL could not be resolved. */
    readonly origin: string,
    reason: string,
  ) {
    super(`token provider "${provider}": will not send its token to ${origin}: ${reason}`);
  }
}

/**
 * The HTTP integration refused to send a provider's certificate-bound (mTLS, RFC 8705 §3) token over
 * a transport that cannot present the client certificate: axios' `fetch` adapter (it ignores
 * `httpsAgent`). The API would refuse the token, and every 401 would cost a token request. Call such
 * APIs through the axios integration's http adapter or the fetch wrapper.
 *
 * @publicApi
 */
export class TokenSenderConstraintError extends TokenError {
  readonly code = 'TOKEN_SENDER_CONSTRAINT';

  constructor(
    readonly provider: string,
    /** What refused: `"axios' fetch adapter"`. */
    readonly transport: string,
  ) {
    super(
      `token provider "${provider}" has certificate-bound tokens (mtls) and ${transport} cannot present ` +
        'the certificate; call it through the axios http adapter or the fetch wrapper',
    );
  }
}

/**
 * An API refused a provider's token with `insufficient_scope` (RFC 6750 §3.1): a new token of the
 * same scope would not help, so none was fetched and the request was not retried. `requiredScope`
 * is the `scope` the API's challenge named (when it is a well-formed scope list).
 *
 * @publicApi
 */
export class TokenInsufficientScopeError extends TokenError {
  readonly code = 'TOKEN_INSUFFICIENT_SCOPE';

  constructor(
    readonly provider: string,
    /** `https://host:port` of the API. */
    readonly origin: string,
    /** 403, or the rare 401 that says `insufficient_scope`. */
    readonly status: number,
    readonly requiredScope: string | undefined,
  ) {
    super(
      `token provider "${provider}": ${origin} answered ${status} insufficient_scope` +
        (requiredScope ? `; it asks for scope "${requiredScope}"` : ''),
    );
  }
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === 'string' ? cause : 'unknown error';
}

/**
 * A token endpoint answered 429 or 503 with a readable `Retry-After`: how long it asked to wait, in
 * milliseconds. The refresh engine makes no attempt before that (capped at its longest backoff).
 * Same `code` as any {@link TokenEndpointError}.
 *
 * @publicApi
 */
export class TokenEndpointRetryLaterError extends TokenEndpointError {
  constructor(
    status: number,
    error: string | undefined,
    errorDescription: string | undefined,
    body: string | undefined,
    readonly retryAfterMs: number,
    endpoint?: string,
  ) {
    super(status, error, errorDescription, body, endpoint);
  }
}

/**
 * No request was sent: the token endpoint (this URL) answered 429 or 503 with a `Retry-After` that
 * has not passed yet. It holds for every grant, per-call variant and provider that posts to the same
 * URL in the process, a forced refresh included, capped at the longest refresh backoff.
 * `retryAt` (epoch ms) is when a request may go again; `retryAfterMs` is how long that is from now.
 * Same `code` as any {@link TokenEndpointError}.
 *
 * @publicApi
 */
export class TokenEndpointHeldError extends TokenEndpointRetryLaterError {
  constructor(
    /** `https://host/path`, without query string. */
    endpoint: string,
    /** The status of the answer that asked to wait (429 or 503). */
    status: number,
    readonly retryAt: number,
    now: number,
  ) {
    super(status, undefined, undefined, undefined, Math.max(0, retryAt - now), endpoint);
    this.message =
      `token endpoint ${endpoint} answered ${status} with Retry-After: no request to it before ` +
      `${new Date(retryAt).toISOString()} (in ${Math.ceil(this.retryAfterMs / 1000)} s)`;
  }
}
