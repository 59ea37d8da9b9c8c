import type { Clock } from '../../core/clock.js';
import { OAuth2ClientAuthenticator } from './oauth2-client-auth.js';
import {
  selectClientAuth,
  type AuthorizationServerMetadata,
  type OAuth2Discovery,
} from './oauth2-discovery.js';
import type { ParsedOAuth2Config } from '../../config/oauth2.options.js';

/**
 * Where a provider's token requests go and how the client authenticates there: the configured
 * `tokenUrl`, or (with `issuer`) the endpoint and auth method from the issuer's latest metadata.
 * Everything is `#private`: the authenticators hold the client's credentials.
 */
export class OAuth2Endpoint {
  readonly #config: ParsedOAuth2Config;
  readonly #clock: Clock;
  readonly #tokenUrl: string | undefined;
  readonly #authenticator: OAuth2ClientAuthenticator;
  readonly #discovery?: OAuth2Discovery;
  readonly #withCertificate: boolean;
  /** The authenticator made from the metadata's last answer. */
  #discovered?: { metadata: AuthorizationServerMetadata; authenticator: OAuth2ClientAuthenticator };

  constructor(
    config: ParsedOAuth2Config,
    tokenUrl: string | undefined,
    authenticator: OAuth2ClientAuthenticator,
    discovery: OAuth2Discovery | undefined,
    clock: Clock,
  ) {
    this.#config = config;
    this.#tokenUrl = tokenUrl;
    this.#authenticator = authenticator;
    this.#discovery = discovery;
    this.#withCertificate = config.mtls !== undefined;
    this.#clock = clock;
  }

  /** The metadata the last {@link resolve} used (with `issuer`). */
  get metadata(): AuthorizationServerMetadata | undefined {
    return this.#discovered?.metadata;
  }

  async resolve(): Promise<{ url: string; authenticator: OAuth2ClientAuthenticator }> {
    if (this.#discovery === undefined) return { url: this.#tokenUrl!, authenticator: this.#authenticator };
    const metadata = await this.#discovery.metadata();
    if (this.#discovered?.metadata !== metadata) {
      const clientAuth = selectClientAuth(this.#config, metadata);
      this.#discovered = {
        metadata,
        authenticator: new OAuth2ClientAuthenticator(
          { ...this.#config, clientAuth },
          metadata.token_endpoint,
          this.#clock,
        ),
      };
    }
    // RFC 8705 §5: with a client certificate, the issuer's mTLS alias when it has one.
    const alias = this.#withCertificate ? metadata.mtls_endpoint_aliases?.token_endpoint : undefined;
    return { url: alias ?? metadata.token_endpoint, authenticator: this.#discovered.authenticator };
  }
}
