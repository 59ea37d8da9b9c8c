import type { OAuth2DiscoveryOptions } from '../../config/oauth2-discovery.options.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { InvalidTokenOptionsError, TokenRequestError } from '../../core/token.errors.js';
import type { OAuth2ClientAuthMethod } from './oauth2-client-auth.js';
import { isJsonMediaType } from './token-endpoint-response.js';
import { describeEndpoint, tokenUrlProblem } from '../../core/token-endpoint-url.js';
import { discoveredEndpointProblem } from './discovered-endpoint.js';

/**
 * The authorization server metadata the library uses (RFC 8414 §2, RFC 8705 §5, RFC 9449 §5.1).
 *
 * @publicApi
 */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly token_endpoint: string;
  readonly token_endpoint_auth_methods_supported?: readonly string[];
  readonly dpop_signing_alg_values_supported?: readonly string[];
  readonly mtls_endpoint_aliases?: { readonly token_endpoint?: string };
  readonly grant_types_supported?: readonly string[];
}

/**
 * Metadata refused because of where an endpoint it names is: retrying cannot help, so start-up
 * stops (naming the provider and `field`) instead of retrying in the background.
 */
export class DiscoveredEndpointRefusedError extends TokenRequestError {
  constructor(
    message: string,
    /** `token_endpoint` or `mtls_endpoint_aliases.token_endpoint`. */
    readonly field: string,
  ) {
    super(message);
  }
}

const MAX_METADATA_BYTES = 256 * 1024;
const FIRST_RETRY_DELAY_MS = 1_000;

/**
 * Fetches and caches an issuer's metadata: the OpenID Connect location
 * (`<issuer>/.well-known/openid-configuration`) first, then RFC 8414's
 * (`<origin>/.well-known/oauth-authorization-server<path>`). The document's `issuer` must be
 * identical to the configured one (RFC 8414 §3.3), its endpoints must pass the same https rule as a
 * `tokenUrl` and the rules of `discovered-endpoint.ts` (no link-local address; no loopback one from
 * an issuer off loopback; https where the client certificate goes). Concurrent callers share one fetch; after a failure, the next attempt waits (1 s,
 * doubling, up to `maxRetryDelayMs`) and callers in between get the last error at once.
 */
export class OAuth2Discovery {
  readonly #issuer: string;
  readonly #options: OAuth2DiscoveryOptions;
  readonly #allowInsecureHttp: boolean;
  readonly #clock: Clock;
  readonly #withCertificate: boolean;
  #metadata?: { value: AuthorizationServerMetadata; fetchedAt: number };
  #inFlight?: Promise<AuthorizationServerMetadata>;
  #failure?: { error: TokenRequestError; retryAt: number; delay: number };
  #retryTimer?: NodeJS.Timeout;

  constructor(
    issuer: string,
    options: OAuth2DiscoveryOptions = {},
    allowInsecureHttp = false,
    clock: Clock = systemClock,
    /** The provider has `mtls`: its token requests go to the mTLS alias (or the token endpoint) over TLS. */
    withCertificate = false,
  ) {
    this.#issuer = issuer;
    this.#options = options;
    this.#allowInsecureHttp = allowInsecureHttp;
    this.#clock = clock;
    this.#withCertificate = withCertificate;
  }

  /** The cached metadata, fetched when missing or older than the TTL. */
  metadata(): Promise<AuthorizationServerMetadata> {
    const now = this.#clock.now();
    const cached = this.#metadata;
    if (cached && now - cached.fetchedAt < (this.#options.ttlMs ?? 3_600_000))
      return Promise.resolve(cached.value);
    if (this.#inFlight) return this.#inFlight;
    // Still backing off: a stale document beats none, else the failure that started the wait.
    if (this.#failure && now < this.#failure.retryAt) {
      return cached ? Promise.resolve(cached.value) : Promise.reject(this.#failure.error);
    }
    const attempt = this.#fetch().then(
      (value) => {
        this.#metadata = { value, fetchedAt: this.#clock.now() };
        this.#failure = undefined;
        return value;
      },
      (error: TokenRequestError) => {
        const delay = Math.min(
          this.#failure ? this.#failure.delay * 2 : FIRST_RETRY_DELAY_MS,
          this.#options.maxRetryDelayMs ?? 60_000,
        );
        this.#failure = { error, retryAt: this.#clock.now() + delay, delay };
        if (cached) return cached.value;
        throw error;
      },
    );
    this.#inFlight = attempt.finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  /**
   * Start-up: fetch once; on failure keep retrying in the background with the same backoff (the
   * timer does not hold the process open) and resolve with the error, so the caller decides.
   */
  async warmUp(): Promise<TokenRequestError | undefined> {
    try {
      await this.metadata();
      return undefined;
    } catch (error) {
      this.#scheduleRetry();
      return error as TokenRequestError;
    }
  }

  /** Stops background retries, including one whose fetch is in flight now. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
  }

  #closed = false;

  #scheduleRetry(): void {
    if (this.#closed) return;
    const delay = this.#failure?.delay ?? FIRST_RETRY_DELAY_MS;
    this.#retryTimer = setTimeout(() => {
      this.metadata().catch(() => this.#scheduleRetry());
    }, delay);
    this.#retryTimer.unref();
  }

  async #fetch(): Promise<AuthorizationServerMetadata> {
    const issuer = new URL(this.#issuer);
    const path = issuer.pathname === '/' ? '' : issuer.pathname.replace(/\/$/, '');
    const locations = [
      `${issuer.origin}${path}/.well-known/openid-configuration`,
      `${issuer.origin}/.well-known/oauth-authorization-server${path}`,
    ];
    let lastError: TokenRequestError | undefined;
    for (const location of locations) {
      const outcome = await this.#get(location);
      if (outcome === 'not-found') continue;
      if (outcome instanceof TokenRequestError) {
        lastError = outcome;
        break;
      }
      return this.#validate(outcome);
    }
    throw lastError ?? this.#error('no metadata at either well-known location (404)');
  }

  async #get(location: string): Promise<Record<string, unknown> | 'not-found' | TokenRequestError> {
    let response: Response;
    try {
      response = await fetch(location, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      return this.#error(typeof code === 'string' ? code : (error as Error).name || 'network error');
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return 'not-found';
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      return this.#error(`${describeEndpoint(location)} answered ${response.status}`);
    }
    if (Number(response.headers.get('content-length') ?? 0) > MAX_METADATA_BYTES) {
      await response.body?.cancel();
      return this.#error('metadata document too large');
    }
    const text = await response.text().catch(() => undefined);
    if (text === undefined || text.length > MAX_METADATA_BYTES)
      return this.#error('metadata document unreadable');
    if (!isJsonMediaType(response.headers.get('content-type') ?? ''))
      return this.#error('metadata is not JSON');
    try {
      const body: unknown = JSON.parse(text);
      if (typeof body === 'object' && body !== null && !Array.isArray(body))
        return body as Record<string, unknown>;
    } catch {
      // reported below
    }
    return this.#error('metadata is not a JSON object');
  }

  #validate(body: Record<string, unknown>): AuthorizationServerMetadata {
    // RFC 8414 §3.3: a document for another issuer is an attack (or a misconfiguration), never used.
    if (body.issuer !== this.#issuer)
      this.#fail('the metadata "issuer" does not match the configured issuer');
    const endpointProblem = (value: unknown) =>
      typeof value !== 'string' ? 'is missing' : tokenUrlProblem(value, this.#allowInsecureHttp);
    const tokenProblem = endpointProblem(body.token_endpoint);
    if (tokenProblem) this.#fail(`the metadata "token_endpoint" ${tokenProblem}`);
    const aliases = body.mtls_endpoint_aliases as Record<string, unknown> | undefined;
    if (aliases?.token_endpoint !== undefined) {
      const aliasProblem = endpointProblem(aliases.token_endpoint);
      if (aliasProblem) this.#fail(`the metadata "mtls_endpoint_aliases.token_endpoint" ${aliasProblem}`);
    }
    // Checked here, when the document is accepted: no credentialed request has gone anywhere yet.
    const rules = { issuer: this.#issuer, allowLocalEndpoints: this.#options.allowLocalEndpoints === true };
    const endpoints: Array<[string, string]> = [['token_endpoint', body.token_endpoint as string]];
    if (typeof aliases?.token_endpoint === 'string')
      endpoints.push(['mtls_endpoint_aliases.token_endpoint', aliases.token_endpoint]);
    // RFC 8705 §5: with a certificate, requests go to the alias when there is one.
    const certificateField = this.#withCertificate ? endpoints.at(-1)![0] : undefined;
    for (const [field, endpoint] of endpoints) {
      const problem = discoveredEndpointProblem(endpoint, rules, field === certificateField);
      if (problem) {
        throw new DiscoveredEndpointRefusedError(
          this.#error(`the metadata "${field}" ${problem}`).message,
          field,
        );
      }
    }
    const list = (value: unknown) =>
      Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
    return {
      issuer: this.#issuer,
      token_endpoint: body.token_endpoint as string,
      token_endpoint_auth_methods_supported: list(body.token_endpoint_auth_methods_supported),
      dpop_signing_alg_values_supported: list(body.dpop_signing_alg_values_supported),
      grant_types_supported: list(body.grant_types_supported),
      mtls_endpoint_aliases:
        typeof aliases?.token_endpoint === 'string' ? { token_endpoint: aliases.token_endpoint } : undefined,
    };
  }

  #error(reason: string): TokenRequestError {
    return new TokenRequestError(`discovery of issuer ${describeEndpoint(this.#issuer)} failed: ${reason}`);
  }

  #fail(reason: string): never {
    throw this.#error(reason);
  }
}

/**
 * The client authentication to use with an issuer: the configured one, which the issuer must list
 * when it lists any; else `client_secret_basic` (RFC 8414's default), `client_secret_post` when
 * the issuer lists only that, `private_key_jwt` for a client with a key and no secret.
 */
export function selectClientAuth(
  config: { clientAuth?: OAuth2ClientAuthMethod; clientSecret?: string; privateKey?: unknown },
  metadata: AuthorizationServerMetadata,
): OAuth2ClientAuthMethod {
  const supported = metadata.token_endpoint_auth_methods_supported;
  if (config.clientAuth !== undefined) {
    if (supported && !supported.includes(config.clientAuth)) {
      throw new InvalidTokenOptionsError(
        `oauth2 "clientAuth" ${config.clientAuth} is not in the issuer's token_endpoint_auth_methods_supported`,
        undefined,
        'clientAuth',
      );
    }
    return config.clientAuth;
  }
  if (config.privateKey !== undefined && config.clientSecret === undefined) return 'private_key_jwt';
  if (supported && !supported.includes('client_secret_basic') && supported.includes('client_secret_post')) {
    return 'client_secret_post';
  }
  return 'client_secret_basic';
}
