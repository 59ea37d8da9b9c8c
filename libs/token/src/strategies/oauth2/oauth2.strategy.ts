import { systemClock, type Clock } from '../../core/clock.js';
import { requestOAuth2Token } from './oauth2-token-request.js';
import { SerialQueue } from './oauth2-serial-queue.js';
import { refreshGrantParameters, withRequestParameters } from './oauth2-grant-parameters.js';
import { mayStillHonour, refreshTokenOf } from './oauth2-refresh-token.js';
import { fillTenant } from '../../core/token-endpoint-url.js';
import { TOKEN_DEFAULTS } from '../../core/token.constants.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import type { TokenInfo } from '../../core/token-info.js';
import type {
  TokenGenerateContext,
  TokenRequestParameters,
  TokenStrategy,
} from '../../core/token-strategy.interface.js';
import { normalizeScopes, oauth2StrategyCacheKey } from '../../core/oauth2-cache-key.js';
import { OAuth2ClientAuthenticator } from './oauth2-client-auth.js';
import { parseOrThrow, validatedOr } from '../../config/validation.js';
import {
  oauth2ProviderSchema,
  type ParsedOAuth2Config,
  type OAuth2ProviderConfig,
} from '../../config/oauth2.options.js';
import { OAuth2Discovery } from './oauth2-discovery.js';
import { OAuth2Endpoint } from './oauth2-endpoint.js';
import { DpopProofSigner } from './dpop-proof.js';
import { checkDpopAlgorithm } from './dpop-token-request.js';
import type { SenderConstraint } from '../../core/sender-constraint.js';
import { MtlsClient } from './oauth2-mtls.js';
import { JwtBearerGrant, type GrantParameters } from './oauth2-jwt-bearer.js';
import {
  checkIssuedTokenType,
  TokenExchangeGrant,
  type ProviderTokenLookup,
} from './oauth2-token-exchange.js';
import { grantKeyParts } from './oauth2-grant-key.js';

/** What the token module gives a strategy besides its config. */
export interface OAuth2StrategyContext {
  /** Another provider's token, for `tokenExchange` sources `{ provider }`. */
  tokenOf?: ProviderTokenLookup;
  /** Shared metadata cache (variants of one provider share their parent's). */
  discovery?: OAuth2Discovery;
  /** Per-call subject token (token exchange). */
  subjectToken?: string;
  /** The DPoP key (variants share their parent's). */
  dpop?: DpopProofSigner;
  /** The client certificate (variants share their parent's). */
  mtls?: MtlsClient;
  /** The module provider's name: keys `tokenExchange` callback sources (stable across replicas). */
  providerName?: string;
}

/**
 * Gets tokens from an OAuth2 token endpoint with the client-credentials grant (RFC 6749 §4.4),
 * authenticating with `client_secret_basic` (default), `client_secret_post`, `private_key_jwt` or `client_secret_jwt`
 * (RFC 7523). When the server hands out a `refresh_token`, the next `generate()` spends it
 * (RFC 6749 §6) and falls back to client credentials when that fails in any way; the refresh token
 * is kept for the next attempt only after a 5xx, a 429 or a network failure or timeout. Responses are read
 * per §5.1/§5.2 into a {@link TokenInfo} or a typed error (`TokenEndpointError`,
 * `TokenResponseError`, `TokenRequestError`) whose message never holds a secret or a token.
 * Options add the JWT-bearer (`jwtBearer`, RFC 7523) or token-exchange (`tokenExchange`, RFC 8693)
 * grant instead of client credentials, discovery (`issuer`, RFC 8414), DPoP (`dpop`, RFC 9449) and
 * mTLS client authentication / certificate-bound tokens (`mtls`, RFC 8705).
 *
 * @publicApi
 */
export class OAuth2Strategy implements TokenStrategy {
  readonly cacheKey: string;
  // Everything below is `#private`: the config holds the client secret or private key, and the
  // refresh token is a credential; none of it may show in `util.inspect` or `JSON.stringify`.
  readonly #config: ParsedOAuth2Config;
  readonly #clock: Clock;
  /** `tokenUrl` with its `{tenant}` placeholder filled; undefined while a tenant is missing. */
  readonly #tokenUrl: string | undefined;
  readonly #endpoint: OAuth2Endpoint;
  readonly #context: OAuth2StrategyContext;
  /** With `issuer`: the metadata cache (shared with variants). */
  readonly #discovery?: OAuth2Discovery;
  readonly #jwtBearer?: JwtBearerGrant;
  readonly #dpop?: DpopProofSigner;
  readonly #mtls?: MtlsClient;
  readonly #tokenExchange?: TokenExchangeGrant;
  #refreshToken?: string;
  /** `generate()` calls, one at a time: a refresh token must never be spent twice. */
  readonly #queue = new SerialQueue();

  constructor(
    config: Omit<OAuth2ProviderConfig, 'type'>,
    clock: Clock = systemClock,
    context: OAuth2StrategyContext = {},
  ) {
    // The same checks as a module provider's config (https token URL, the credential the auth
    // method needs, a well-formed private key, no reserved extra parameter), made here only when
    // the strategy is built by hand: the module's configuration arrives already parsed.
    const parsed = validatedOr(config, () =>
      parseOrThrow(oauth2ProviderSchema, { ...config, type: 'oauth2' }, 'oauth2 strategy'),
    );
    this.#config = parsed;
    this.#clock = clock;
    this.#context = context;
    // With `issuer`, the key names the issuer: it is known before the metadata is.
    const configuredUrl = parsed.tokenUrl ?? parsed.issuer!;
    this.#tokenUrl = parsed.issuer === undefined ? fillTenant(configuredUrl, parsed.tenant) : configuredUrl;
    const endpoint = this.#tokenUrl ?? configuredUrl;
    if (parsed.issuer !== undefined) {
      this.#discovery =
        context.discovery ??
        new OAuth2Discovery(
          parsed.issuer,
          parsed.discovery,
          parsed.allowInsecureHttp,
          clock,
          parsed.mtls !== undefined,
        );
    }
    const authenticator = new OAuth2ClientAuthenticator(parsed, endpoint, clock);
    this.#endpoint = new OAuth2Endpoint(parsed, this.#tokenUrl, authenticator, this.#discovery, clock);
    if (parsed.mtls) this.#mtls = context.mtls ?? new MtlsClient(parsed.mtls);
    if (parsed.dpop) this.#dpop = context.dpop ?? new DpopProofSigner(parsed.dpop, clock);
    if (parsed.jwtBearer) this.#jwtBearer = new JwtBearerGrant(parsed.jwtBearer, parsed.clientId, clock);
    if (parsed.tokenExchange) {
      this.#tokenExchange = new TokenExchangeGrant(
        parsed.tokenExchange,
        context.subjectToken,
        context.tokenOf,
      );
    }
    this.cacheKey = oauth2StrategyCacheKey(parsed, endpoint, {
      ...grantKeyParts(parsed, context.subjectToken, context.providerName),
      // DPoP tokens are bound to the key: a replica with another key cannot use them.
      ...(this.#dpop ? { ' dpop': this.#dpop.thumbprint } : {}),
    });
  }

  /** How this provider's tokens are bound to the client; the HTTP integration signs with it. */
  get senderConstraint(): SenderConstraint<DpopProofSigner> | undefined {
    if (this.#dpop === undefined && this.#mtls?.boundTokens !== true) return undefined;
    const mtls = this.#mtls?.boundTokens ? this.#mtls : undefined;
    return {
      dpop: this.#dpop,
      mtlsAgent: mtls?.agent,
      mtlsDispatcher: mtls && (() => mtls.fetchDispatcher()),
    };
  }

  /** Schemes accepted besides `Bearer`: the configured ones, and `DPoP` with `dpop`. */
  get allowedTokenTypes(): readonly string[] {
    const configured = this.#config.allowedTokenTypes ?? [];
    return this.#dpop ? [...configured, 'DPoP'] : configured;
  }

  /** With `issuer`: the metadata cache (start-up warms it; a variant shares it). */
  get discovery(): OAuth2Discovery | undefined {
    return this.#discovery;
  }

  /**
   * Stops discovery retries and closes the client certificate's connections. A variant shares its
   * parent's, so only the strategy that made them closes them.
   */
  close(): void {
    if (this.#context.discovery === undefined) this.#discovery?.close();
    if (this.#context.mtls === undefined) this.#mtls?.close();
  }

  /**
   * The same client asking for another scope, audience, resource or tenant; a strategy with its
   * own cache key and refresh token. Per-call values replace the configured ones.
   */
  withParameters(parameters: TokenRequestParameters): OAuth2Strategy {
    if (parameters.subjectToken !== undefined && this.#tokenExchange === undefined) {
      throw new InvalidTokenOptionsError(
        'per-call "subjectToken" needs a provider with "tokenExchange"',
        undefined,
        'subjectToken',
      );
    }
    if (parameters.tenant !== undefined && this.#config.issuer !== undefined) {
      // The issuer's metadata names one token endpoint: a tenant would change nothing but the name.
      throw new InvalidTokenOptionsError(
        'per-call "tenant" needs a "tokenUrl" with a {tenant} placeholder, not "issuer"',
        undefined,
        'tenant',
      );
    }
    const scopes = normalizeScopes(parameters.scope);
    const resources = parameters.resource === undefined ? undefined : [parameters.resource].flat();
    return new OAuth2Strategy(
      {
        ...this.#config,
        scope: scopes.length > 0 ? scopes : this.#config.scope,
        audience: parameters.audience ?? this.#config.audience,
        resource: resources ?? this.#config.resource,
        tenant: parameters.tenant ?? this.#config.tenant,
      },
      this.#clock,
      {
        ...this.#context,
        discovery: this.#discovery,
        dpop: this.#dpop,
        mtls: this.#mtls,
        subjectToken: parameters.subjectToken ?? this.#context.subjectToken,
      },
    );
  }

  /** `context.previous`: the fleet's shared token; its refresh token is preferred to this replica's. */
  generate(context?: TokenGenerateContext): Promise<TokenInfo> {
    if (this.#tokenUrl === undefined) {
      return Promise.reject(
        new InvalidTokenOptionsError(
          'oauth2 "tenant" is required: "tokenUrl" has a {tenant} placeholder',
          undefined,
          'tenant',
        ),
      );
    }
    if (this.#config.useRefreshToken === false) return this.#clientCredentialsGrant();
    const shared = context?.previous === undefined ? undefined : refreshTokenOf(context.previous);
    return this.#queue.run(() => this.#refreshOrClientCredentials(shared));
  }

  async #refreshOrClientCredentials(shared: string | undefined): Promise<TokenInfo> {
    const refreshToken = shared ?? this.#refreshToken;
    if (refreshToken) {
      try {
        const info = await this.#request(() =>
          Promise.resolve(refreshGrantParameters(this.#config, refreshToken)),
        );
        // RFC 6749 §6: a new refresh token replaces the old one; without one, the old one stays good.
        this.#refreshToken = refreshTokenOf(info) ?? refreshToken;
        return info;
      } catch (error) {
        // Whatever went wrong, the client's own grant is tried next. The refresh token is kept only
        // while the server may still honour it: not once refused (expired, revoked, rotated), nor
        // after a success answer that could not be read (it may have been rotated by it).
        if (!mayStillHonour(error)) this.#refreshToken = undefined;
      }
    }
    const info = await this.#clientCredentialsGrant();
    this.#refreshToken = refreshTokenOf(info) ?? this.#refreshToken;
    return info;
  }

  async #clientCredentialsGrant(): Promise<TokenInfo> {
    // Built per attempt: a JWT-bearer assertion's jti may be used once (the DPoP-nonce retry too).
    const info = await this.#request(async () =>
      withRequestParameters(this.#config, await this.#grantParameters()),
    );
    if (this.#tokenExchange) checkIssuedTokenType(info);
    return info;
  }

  /** The grant this provider uses: client credentials, JWT bearer (RFC 7523) or token exchange (RFC 8693). */
  async #grantParameters(): Promise<GrantParameters> {
    if (this.#jwtBearer) {
      const { url } = await this.#endpoint.resolve();
      return this.#jwtBearer.parameters(this.#config.issuer ?? url);
    }
    if (this.#tokenExchange) return this.#tokenExchange.parameters();
    return { params: new URLSearchParams({ grant_type: 'client_credentials' }), secrets: [] };
  }

  async #request(grant: () => Promise<GrantParameters>): Promise<TokenInfo> {
    const { url, authenticator } = await this.#endpoint.resolve();
    const dpop = this.#dpop;
    if (dpop) checkDpopAlgorithm(dpop, this.#endpoint.metadata);
    const config = this.#config;
    return requestOAuth2Token(
      {
        url,
        authenticator,
        dpop,
        mtls: this.#mtls,
        clock: this.#clock,
        timeoutMs: config.timeoutMs ?? TOKEN_DEFAULTS.requestTimeoutMs,
        maxResponseBytes: config.maxResponseBytes ?? TOKEN_DEFAULTS.maxResponseBytes,
        defaultExpiresInSeconds: config.defaultExpiresInSeconds ?? TOKEN_DEFAULTS.defaultExpiresInMs / 1000,
        allowedTokenTypes: config.allowedTokenTypes,
      },
      grant,
    );
  }
}
