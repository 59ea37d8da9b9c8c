import type { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import { createRedactor } from './token-endpoint-redaction.js';
import { postTokenRequest } from './token-endpoint-request.js';
import { parseTokenEndpointResponse } from './token-endpoint-response.js';
import { TOKEN_DEFAULTS } from '../../token.constants.js';
import { InvalidTokenOptionsError, TokenEndpointError, TokenRequestError } from '../../token.errors.js';
import type { TokenInfo } from '../../token-info.js';
import type { TokenRequestParameters, TokenStrategy } from '../../token-strategy.interface.js';
import { normalizeScopes, oauth2CacheKey } from './oauth2-cache-key.js';
import { OAuth2ClientAuthenticator } from './oauth2-client-auth.js';
import { parseOrThrow } from '../../config/validation.js';
import { oauth2ProviderSchema, type OAuth2ProviderConfig } from './oauth2.options.js';

type ParsedOAuth2Config = z.output<typeof oauth2ProviderSchema>;

/**
 * Gets tokens from an OAuth2 token endpoint with the client-credentials grant (RFC 6749 §4.4),
 * authenticating with `client_secret_basic` (default), `client_secret_post` or `private_key_jwt`
 * (RFC 7523). When the server hands out a `refresh_token`, the next `generate()` spends it
 * (RFC 6749 §6) and falls back to client credentials when that fails in any way; the refresh token
 * is kept for the next attempt only after a 5xx, a 429 or a network failure or timeout. Responses are read
 * per §5.1/§5.2 into a {@link TokenInfo} or a typed error (`TokenEndpointError`,
 * `TokenResponseError`, `TokenRequestError`) whose message never holds a secret or a token.
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
  readonly #authenticator: OAuth2ClientAuthenticator;
  #refreshToken?: string;
  /** Tail of the queue of `generate()` calls: a refresh token must never be spent twice. */
  #queue: Promise<void> = Promise.resolve();

  constructor(config: Omit<OAuth2ProviderConfig, 'type'>, clock: Clock = systemClock) {
    // The same checks as a module provider's config (https token URL, the credential the auth
    // method needs, a well-formed private key, no reserved extra parameter).
    const parsed = parseOrThrow(oauth2ProviderSchema, { ...config, type: 'oauth2' }, 'oauth2 strategy');
    this.#config = parsed;
    this.#clock = clock;
    this.#tokenUrl = fillTenant(parsed.tokenUrl, parsed.tenant);
    const endpoint = this.#tokenUrl ?? parsed.tokenUrl;
    this.#authenticator = new OAuth2ClientAuthenticator(parsed, endpoint, clock);
    this.cacheKey = oauth2CacheKey({ ...parsed, tokenUrl: endpoint });
  }

  /**
   * The same client asking for another scope, audience, resource or tenant; a strategy with its
   * own cache key and refresh token. Per-call values replace the configured ones.
   */
  withParameters(parameters: TokenRequestParameters): OAuth2Strategy {
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
    );
  }

  generate(): Promise<TokenInfo> {
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
    return this.#exclusive(() => this.#refreshOrClientCredentials());
  }

  async #refreshOrClientCredentials(): Promise<TokenInfo> {
    const refreshToken = this.#refreshToken;
    if (refreshToken) {
      try {
        const info = await this.#request(this.#refreshParams(refreshToken), [refreshToken]);
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

  #clientCredentialsGrant(): Promise<TokenInfo> {
    const params = new URLSearchParams({ grant_type: 'client_credentials' });
    this.#appendScopeAndResource(params);
    if (this.#config.audience) params.set('audience', this.#config.audience);
    for (const [name, value] of Object.entries(this.#config.extraParams ?? {})) params.set(name, value);
    return this.#request(params, []);
  }

  #refreshParams(refreshToken: string): URLSearchParams {
    const params = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    this.#appendScopeAndResource(params);
    return params;
  }

  #appendScopeAndResource(params: URLSearchParams): void {
    const { scope, resource } = this.#config;
    if (scope !== undefined) params.set('scope', typeof scope === 'string' ? scope : scope.join(' '));
    for (const value of resource === undefined ? [] : [resource].flat()) params.append('resource', value);
  }

  async #request(params: URLSearchParams, requestSecrets: string[]): Promise<TokenInfo> {
    const auth = await this.#authenticator.authenticate();
    for (const [name, value] of Object.entries(auth.params)) params.set(name, value);
    const redact = createRedactor([...auth.secrets, ...requestSecrets]);
    const response = await postTokenRequest({
      url: this.#tokenUrl!,
      form: params,
      headers: auth.headers,
      timeoutMs: this.#config.timeoutMs ?? TOKEN_DEFAULTS.requestTimeoutMs,
      maxResponseBytes: this.#config.maxResponseBytes ?? TOKEN_DEFAULTS.maxResponseBytes,
    });
    return parseTokenEndpointResponse(response, {
      receivedAt: this.#clock.now(),
      defaultExpiresInSeconds:
        this.#config.defaultExpiresInSeconds ?? TOKEN_DEFAULTS.defaultExpiresInMs / 1000,
      redact,
    });
  }

  /** Runs tasks one at a time, in call order; a failed task does not stop the next. */
  async #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const previous = this.#queue;
    let release!: () => void;
    this.#queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await task();
    } finally {
      release();
    }
  }
}

/** `{tenant}` in the URL (as written or as the URL parser encodes it) replaced by the tenant. */
function fillTenant(tokenUrl: string, tenant: string | undefined): string | undefined {
  const placeholder = /\{tenant\}|%7Btenant%7D/gi;
  if (!placeholder.test(tokenUrl)) {
    if (tenant !== undefined) {
      throw new InvalidTokenOptionsError(
        'oauth2 "tenant" needs a {tenant} placeholder in "tokenUrl"',
        undefined,
        'tenant',
      );
    }
    return tokenUrl;
  }
  return tenant === undefined ? undefined : tokenUrl.replace(placeholder, encodeURIComponent(tenant));
}

function refreshTokenOf(info: TokenInfo): string | undefined {
  const value = info.extra.refresh_token;
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * After a failed refresh-token grant: true when the server may still honour the refresh token, i.e.
 * it did not get to decide on it (5xx, 429, no answer). False when it refused it (RFC 6749 §5.2
 * `invalid_grant`, or any other 4xx) or answered 2xx with something unreadable (it may have rotated it).
 */
function mayStillHonour(error: unknown): boolean {
  if (error instanceof TokenEndpointError) {
    if (error.error === 'invalid_grant') return false;
    return error.status >= 500 || error.status === 429;
  }
  return error instanceof TokenRequestError;
}
