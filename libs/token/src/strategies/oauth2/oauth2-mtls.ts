import { Agent, request as httpsRequest } from 'node:https';
import { z } from 'zod';
import { nonEmptyString } from '../../config/provider-options.schema.js';
import { InvalidTokenOptionsError, TokenRequestError } from '../../token.errors.js';
import { createSecureContext, type SecureContext } from 'node:tls';
import { describeEndpoint } from './token-endpoint-url.js';
import type { TokenEndpointRawResponse, TokenEndpointRequest } from './token-endpoint-request.js';

/** RFC 8705 §2 client authentication methods. */
export const MTLS_CLIENT_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * `mtls` of an `oauth2` provider: the client certificate (RFC 8705) presented to the token endpoint
 * (for `tls_client_auth` / `self_signed_tls_client_auth`, and for certificate-bound tokens with any
 * method) and, by the axios integration, to the provider's API origins.
 *
 * @publicApi
 */
export const mtlsSchema = z
  .object({
    /** PEM certificate (chain). */
    certificate: nonEmptyString().refine((value) => value.includes(PEM_CERTIFICATE), {
      message: `must be a PEM certificate ("${PEM_CERTIFICATE}")`,
    }),
    /** PEM private key of the certificate. */
    privateKey: nonEmptyString(),
    /** PEM CA certificate(s) to trust for the servers, besides the system ones. */
    ca: nonEmptyString().optional(),
    /** Send the certificate on the provider's API requests too (certificate-bound tokens). Default true. */
    boundTokens: z.boolean().optional(),
  })
  .strict();

/** @publicApi */
export type MtlsOptions = z.input<typeof mtlsSchema>;
type MtlsConfig = z.output<typeof mtlsSchema>;

/**
 * Holds the provider's client certificate as an `https.Agent` (kept-alive connections, the key in
 * Node's TLS context, not in a readable field of ours).
 */
export class MtlsClient {
  readonly agent: Agent;
  readonly boundTokens: boolean;

  constructor(config: MtlsConfig) {
    let secureContext: SecureContext;
    try {
      // Built now: a key that does not match the certificate stops start-up, not the first call.
      secureContext = createSecureContext({
        cert: config.certificate,
        key: config.privateKey,
        ca: config.ca,
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
    this.boundTokens = config.boundTokens ?? true;
  }

  /** Closes the kept-alive connections (to the token endpoint and the API origins). */
  close(): void {
    this.agent.destroy();
  }

  /** {@link postTokenRequest} over `node:https` with the client certificate. */
  post(request: TokenEndpointRequest): Promise<TokenEndpointRawResponse> {
    const endpoint = describeEndpoint(request.url);
    return new Promise((resolve, reject) => {
      const fail = (what: string) =>
        reject(new TokenRequestError(`token request to ${endpoint} failed: ${what}`));
      const body = request.form.toString();
      const outgoing = httpsRequest(
        request.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: request.timeoutMs,
          headers: {
            ...request.headers,
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            accept: 'application/json',
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > request.maxResponseBytes) {
              response.destroy();
              fail(`response body exceeds ${request.maxResponseBytes} bytes`);
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', () => fail('reading the response'));
          response.on('end', () => {
            const nonce = response.headers['dpop-nonce'];
            resolve({
              status: response.statusCode ?? 0,
              contentType: response.headers['content-type'] ?? '',
              body: Buffer.concat(chunks).toString('utf8'),
              dpopNonce: typeof nonce === 'string' ? nonce : undefined,
            });
          });
        },
      );
      outgoing.on('timeout', () => {
        outgoing.destroy();
        reject(new TokenRequestError(`token request to ${endpoint} timed out after ${request.timeoutMs} ms`));
      });
      outgoing.on('error', (error: Error & { code?: string }) =>
        fail(
          typeof error.code === 'string' && /^[A-Z_0-9]{2,40}$/.test(error.code)
            ? error.code
            : 'network error',
        ),
      );
      outgoing.end(body);
    });
  }
}
