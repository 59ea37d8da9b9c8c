import { TokenRequestError } from '../../core/token.errors.js';
import { describeEndpoint } from '../../core/token-endpoint-url.js';

/** A POST to a token endpoint, as {@link postTokenRequest} sends it. */
export interface TokenEndpointRequest {
  url: string;
  /** Form parameters; sent as `application/x-www-form-urlencoded`. */
  form: URLSearchParams;
  /** Extra headers, e.g. `Authorization` for `client_secret_basic`. */
  headers?: Record<string, string>;
  /** Whole exchange, body included. */
  timeoutMs: number;
  /** Bodies longer than this are abandoned mid-stream, never buffered whole. */
  maxResponseBytes: number;
}

/** What came back, before any interpretation (see `parseTokenEndpointResponse`). */
export interface TokenEndpointRawResponse {
  status: number;
  /** The `Content-Type` header, or `''`. */
  contentType: string;
  /** The body, decoded as UTF-8 (bad bytes replaced). */
  body: string;
  /** The `DPoP-Nonce` header (RFC 9449 §8), when the server sent one. */
  dpopNonce?: string;
  /** The `Retry-After` header, when there is one. */
  retryAfter?: string;
}

/**
 * How a token request goes out: Node's `fetch` by default, `node:https` with the client certificate
 * for mTLS (`agentTransport`). It must honour `signal` (the whole-exchange timeout aborts it).
 */
export type TokenEndpointTransport = (
  url: string,
  init: {
    method: 'POST';
    headers: Record<string, string>;
    body: string;
    redirect: 'manual';
    signal: AbortSignal;
  },
) => Promise<Response>;

/**
 * POSTs a form to a token endpoint with Node's `fetch` (or `send`). Redirects are not followed (a 3xx comes back
 * as it is), the whole exchange is bounded by `timeoutMs`, and the body is read as a stream and
 * dropped as soon as it passes `maxResponseBytes`. Failures before an answer is in hand throw
 * {@link TokenRequestError}; the message names the endpoint (no query string), never a parameter.
 */
export async function postTokenRequest(
  request: TokenEndpointRequest,
  send: TokenEndpointTransport = fetch,
): Promise<TokenEndpointRawResponse> {
  const endpoint = describeEndpoint(request.url);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  timer.unref();

  const fail = (what: string, cause?: Error): TokenRequestError =>
    timedOut
      ? new TokenRequestError(`token request to ${endpoint} timed out after ${request.timeoutMs} ms`)
      : new TokenRequestError(`token request to ${endpoint} failed: ${what}`, cause && { cause });

  try {
    let response: Response;
    try {
      response = await send(request.url, {
        method: 'POST',
        headers: {
          ...request.headers,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: request.form.toString(),
        redirect: 'manual',
        signal: controller.signal,
      });
    } catch (error) {
      throw fail(networkReason(error), socketError(error));
    }

    const tooLarge = () => fail(`response body exceeds ${request.maxResponseBytes} bytes`);
    const declaredLength = Number(response.headers.get('content-length') ?? NaN);
    if (declaredLength > request.maxResponseBytes) {
      controller.abort();
      throw tooLarge();
    }
    const body = await readCapped(response, request.maxResponseBytes, controller, tooLarge, (error) =>
      fail(`reading the response: ${networkReason(error)}`, socketError(error)),
    );
    const dpopNonce = response.headers.get('dpop-nonce') ?? undefined;
    const retryAfter = response.headers.get('retry-after') ?? undefined;
    return {
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body,
      dpopNonce,
      retryAfter,
    };
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(
  response: Response,
  maxBytes: number,
  controller: AbortController,
  tooLarge: () => Error,
  readFailed: (error: unknown) => Error,
): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder('utf-8');
  let received = 0;
  let text = '';
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw readFailed(error);
    }
    if (chunk.done) break;
    received += chunk.value.byteLength;
    if (received > maxBytes) {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    text += decoder.decode(chunk.value, { stream: true });
  }
  return text + decoder.decode();
}

/** `ECONNREFUSED`, `UND_ERR_SOCKET`… from undici's `TypeError('fetch failed')` and its cause chain. */
function networkReason(error: unknown): string {
  const code = codedError(error)?.code;
  if (code) return code;
  const name = isObject(error) ? error.name : undefined;
  return typeof name === 'string' && /^\w{1,40}$/.test(name) && name !== 'Error' ? name : 'network error';
}

/**
 * The socket-level error (`connect ECONNREFUSED 127.0.0.1:9`), kept as the `cause`. undici's own
 * errors are not kept: some of them quote the URL or a header value.
 */
function socketError(error: unknown): Error | undefined {
  const coded = codedError(error);
  return coded && !coded.code.startsWith('UND_ERR_') ? coded : undefined;
}

function codedError(error: unknown): (Error & { code: string }) | undefined {
  // Duck-typed: undici's errors may come from another realm, where `instanceof Error` is false.
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isObject(current); depth++) {
    const { code } = current;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code))
      return current as unknown as Error & { code: string };
    current = current.cause;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
