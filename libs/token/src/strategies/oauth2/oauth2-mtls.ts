import { Agent, request as httpsRequest } from 'node:https';
import type { MtlsConfig } from '../../config/oauth2-mtls.options.js';
import type { FetchDispatcher } from '../../core/sender-constraint.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Readable } from 'node:stream';
import {
  postTokenRequest,
  type TokenEndpointRawResponse,
  type TokenEndpointRequest,
  type TokenEndpointTransport,
} from './token-endpoint-request.js';

/**
 * Holds the provider's client certificate as an `https.Agent` (kept-alive connections, the key in
 * Node's TLS context, not in a readable field of ours).
 */
export class MtlsClient {
  readonly agent: Agent;
  readonly boundTokens: boolean;
  readonly #secureContext: SecureContext;
  #dispatcher?: Promise<FetchDispatcher>;

  constructor(config: MtlsConfig) {
    let secureContext: SecureContext;
    try {
      // Built now: a key that does not match the certificate stops start-up, not the first call.
      secureContext = createSecureContext({
        cert: config.certificate,
        key: config.privateKey,
        ca: trustedCertificates(config.ca),
      });
    } catch {
      // Node's message may quote the PEM; name the field only.
      throw new InvalidTokenOptionsError(
        'oauth2 "mtls": the certificate and private key are not a usable pair',
        undefined,
        'mtls',
      );
    }
    // The agent gets the built context, not the PEM: `agent.options` is reachable from every
    // request, response and axios error, and a deep `util.inspect` of those would print the key.
    this.agent = new Agent({ secureContext, keepAlive: true });
    this.#secureContext = secureContext;
    this.boundTokens = config.boundTokens ?? true;
  }

  /**
   * The client certificate for `fetch` (RFC 8705 §3): an undici `Agent`, made on first use, passed
   * as the `dispatcher` of the requests carrying a certificate-bound token. Node's global `fetch`
   * (undici inside) takes it as it is. undici is loaded here only: it takes ~250 ms to load.
   */
  fetchDispatcher(): Promise<FetchDispatcher> {
    this.#dispatcher ??= import('undici').then(
      // The built context again, not the PEM, for the same reason as the `https.Agent`.
      ({ Agent: UndiciAgent }) => new UndiciAgent({ connect: { secureContext: this.#secureContext } }),
    );
    return this.#dispatcher;
  }

  /** Closes the kept-alive connections (to the token endpoint and the API origins). */
  close(): void {
    this.agent.destroy();
    void this.#dispatcher?.then((dispatcher) => dispatcher.destroy()).catch(() => undefined);
  }

  /** {@link postTokenRequest} over `node:https` with the client certificate. */
  post(request: TokenEndpointRequest): Promise<TokenEndpointRawResponse> {
    return postTokenRequest(request, this.#transport);
  }

  readonly #transport: TokenEndpointTransport = (url, init) =>
    new Promise((resolve, reject) => {
      const outgoing = httpsRequest(
        url,
        {
          method: init.method,
          agent: this.agent,
          signal: init.signal,
          headers: { ...init.headers, 'content-length': Buffer.byteLength(init.body) },
        },
        (response) => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const one of value === undefined ? [] : [value].flat()) headers.append(name, one);
          }
          const status = response.statusCode ?? 0;
          const empty = status === 204 || status === 205 || status === 304;
          if (empty) response.resume();
          const body = empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>);
          try {
            resolve(new Response(body, { status, headers }));
          } catch (error) {
            // A status `Response` cannot hold (outside 200-599): no answer to read.
            response.destroy();
            reject(error as Error);
          }
        },
      );
      outgoing.on('error', reject);
      outgoing.end(init.body);
    });
}

/**
 * Node's `ca` replaces the public roots instead of adding to them: with a private CA for the token
 * endpoint, an API on a public certificate would no longer be trusted. `mtls.ca` adds to them.
 */
export function trustedCertificates(ca: string | undefined): string[] | undefined {
  return ca === undefined ? undefined : [...rootCertificates, ca];
}
