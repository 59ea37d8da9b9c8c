import type { Clock } from '../../core/clock.js';
import type { ClientAssertionAlgorithm, ClientSecretJwtAlgorithm } from '../../config/oauth2-algorithms.js';
import { ClientAssertionSigner, JWT_BEARER_ASSERTION_TYPE } from './oauth2-client-assertion.js';

/** How the client proves who it is to the token endpoint. */
export type OAuth2ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  | 'client_secret_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth';

export interface OAuth2ClientCredentials {
  clientId: string;
  clientSecret?: string;
  /** Default `client_secret_basic`. */
  clientAuth?: OAuth2ClientAuthMethod;
  privateKey?: string | Record<string, unknown>;
  signingAlgorithm?: ClientAssertionAlgorithm | ClientSecretJwtAlgorithm;
  keyId?: string;
}

/** What one request carries to authenticate the client, and the secrets in it (for redaction). */
export interface ClientAuthentication {
  headers: Record<string, string>;
  params: Record<string, string>;
  secrets: string[];
}

/** `application/x-www-form-urlencoded` encoding of one value (space → `+`), as RFC 6749 Appendix B. */
export function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/**
 * `Basic base64(formEncode(id) ":" formEncode(secret))`. RFC 6749 §2.3.1 asks for the form encoding
 * before base64, so an id or secret holding `:` or non-ASCII survives the trip.
 */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

/**
 * Produces the client authentication for each token request. The credentials and the signer live in
 * `#private` fields: `util.inspect` and `JSON.stringify` of an authenticator never show a secret.
 */
export class OAuth2ClientAuthenticator {
  readonly method: OAuth2ClientAuthMethod;
  readonly #credentials: OAuth2ClientCredentials;
  readonly #signer?: ClientAssertionSigner;

  constructor(credentials: OAuth2ClientCredentials, tokenUrl: string, clock: Clock) {
    this.#credentials = credentials;
    this.method = credentials.clientAuth ?? 'client_secret_basic';
    if (this.method === 'private_key_jwt' || this.method === 'client_secret_jwt') {
      this.#signer = new ClientAssertionSigner(
        {
          clientId: credentials.clientId,
          audience: tokenUrl,
          ...(this.method === 'private_key_jwt'
            ? { privateKey: credentials.privateKey ?? '' }
            : { clientSecret: credentials.clientSecret ?? '' }),
          algorithm: credentials.signingAlgorithm,
          keyId: credentials.keyId,
        },
        clock,
      );
    }
  }

  /** Secrets known before any request, for redaction. */
  get staticSecrets(): string[] {
    const { clientSecret } = this.#credentials;
    if (!clientSecret) return [];
    return [
      clientSecret,
      basicAuthorization(this.#credentials.clientId, clientSecret).slice('Basic '.length),
    ];
  }

  async authenticate(): Promise<ClientAuthentication> {
    const { clientId, clientSecret = '' } = this.#credentials;
    switch (this.method) {
      case 'client_secret_basic':
        return {
          headers: { authorization: basicAuthorization(clientId, clientSecret) },
          params: {},
          secrets: this.staticSecrets,
        };
      case 'client_secret_post':
        return {
          headers: {},
          params: { client_id: clientId, client_secret: clientSecret },
          secrets: this.staticSecrets,
        };
      case 'tls_client_auth':
      case 'self_signed_tls_client_auth':
        // RFC 8705 §2: the TLS handshake's certificate authenticates; the body names the client.
        return { headers: {}, params: { client_id: clientId }, secrets: [] };
      case 'private_key_jwt':
      case 'client_secret_jwt': {
        const assertion = await this.#signer!.sign();
        return {
          headers: {},
          params: {
            client_id: clientId,
            client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
            client_assertion: assertion,
          },
          secrets: [assertion],
        };
      }
    }
  }
}
