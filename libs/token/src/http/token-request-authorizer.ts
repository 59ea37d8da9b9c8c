import { Injectable, Logger } from '@nestjs/common';
import { TokenOriginError, TokenSenderConstraintError } from '../core/token.errors.js';
import type { TokenInfo } from '../core/token-info.js';
import { TokenSource, type ProviderOriginRules } from '../core/token-source.js';
import type { FetchDispatcher } from '../core/sender-constraint.js';
import { describeUnboundOrigins } from './origin-description.js';
import { checkTokenOrigin, type OriginVerdict } from './origin-policy.js';
import { dpopRequestSigner, type DpopRequestSigner } from './sender-constraints.js';

/** Distinct (provider, origin) warnings remembered; past this, warnings are no longer de-duplicated. */
const MAX_REMEMBERED_WARNINGS = 1_000;

/**
 * What the axios interceptor and the fetch wrapper share: which token (if any) a request may carry,
 * and a fresh one after a 401. Knows nothing of axios or fetch; `TokenService` knows nothing of HTTP.
 *
 * @publicApi
 */
@Injectable()
export class TokenRequestAuthorizer {
  private readonly logger = new Logger('TokenHttp');
  private readonly warned = new Set<string>();

  constructor(private readonly tokenService: TokenSource) {}

  /**
   * The provider's token for a request to `url`, or `undefined` when the origin rules say the request
   * goes without it (warned once per provider and origin). With `strictOrigin: true` such a request
   * is rejected with `TokenOriginError` instead.
   */
  async tokenFor(
    provider: string,
    url: URL | undefined,
    /** Set when the request goes over a transport without the client certificate (named in the error). */
    withoutCertificate?: string,
  ): Promise<TokenInfo | undefined> {
    const options = this.tokenService.getProviderOptions(provider);
    if (options.baseUrls === undefined || options.baseUrls.length === 0) this.warnUnbound(provider, options);
    if (!this.allows(provider, options, url, '')) return undefined;
    // A certificate-bound token without the certificate is refused by the API, and each 401 would
    // then cost a token request: refuse before getting or sending one.
    if (withoutCertificate !== undefined && this.mtlsAgentFor(provider) !== undefined) {
      throw new TokenSenderConstraintError(provider, withoutCertificate);
    }
    return this.tokenService.getToken(provider);
  }

  /** The client certificate's agent for requests carrying the provider's (certificate-bound) tokens. */
  mtlsAgentFor(provider: string): import('node:https').Agent | undefined {
    return this.tokenService.senderConstraintOf(provider)?.mtlsAgent;
  }

  /** The same certificate as a `dispatcher` for `fetch`; made (and undici loaded) on first use. */
  mtlsDispatcherFor(provider: string): Promise<FetchDispatcher> | undefined {
    return this.tokenService.senderConstraintOf(provider)?.mtlsDispatcher?.();
  }

  /** The DPoP signer for requests carrying `info`, when the provider's tokens are DPoP-bound. */
  dpopSignerFor(provider: string, info: TokenInfo): DpopRequestSigner | undefined {
    return dpopRequestSigner(this.tokenService.senderConstraintOf(provider), info);
  }

  /**
   * Whether a request that carries the provider's token may keep it on a redirect to `url`: the same
   * origin rules as the first hop. `false` (warned once per provider and origin) means the next hop
   * goes without it; with `strictOrigin: true` the redirect is refused with `TokenOriginError`.
   */
  mayFollowRedirect(provider: string, url: URL | undefined): boolean {
    return this.allows(provider, this.tokenService.getProviderOptions(provider), url, 'after a redirect, ');
  }

  private allows(
    provider: string,
    options: Readonly<ProviderOriginRules>,
    url: URL | undefined,
    context: string,
  ): boolean {
    const verdict = checkTokenOrigin(url, options);
    if (verdict.allowed) return true;
    const reason = `${context}${verdict.reason}`;
    if (options.strictOrigin === true) throw new TokenOriginError(provider, verdict.origin, reason);
    this.warnOnce(provider, { ...verdict, reason });
    return false;
  }

  /**
   * After an API rejected `rejectedToken` with 401: the token to retry with, counted as a retry.
   * `TokenService` decides: a fresh token for the first 401 (one refresh, however many requests were
   * rejected), the cached one while renewals back off because the API rejects fresh tokens too.
   */
  renewAfterUnauthorized(provider: string, rejectedToken: string): Promise<TokenInfo> {
    return this.tokenService.renewAfterUnauthorized(provider, rejectedToken);
  }

  /** The API answered the retry with a renewed token with something else than 401: it accepted it. */
  noteAccepted(provider: string, token: string): void {
    this.tokenService.noteTokenAccepted(provider, token);
  }

  /** A provider with no `baseUrls` sends its token to any origin the origin rules let through: said once. */
  private warnUnbound(provider: string, options: Readonly<ProviderOriginRules>): void {
    const key = `${provider}\u0000*`;
    if (this.warned.has(key) || this.warned.size >= MAX_REMEMBERED_WARNINGS) return;
    this.warned.add(key);
    this.logger.warn(
      `token provider "${provider}" has no baseUrls: its token goes to ${describeUnboundOrigins(options)}; ` +
        'set baseUrls to bind it to its API (or requireBaseUrls: true to make this a start-up error)',
    );
  }

  private warnOnce(provider: string, verdict: Extract<OriginVerdict, { allowed: false }>): void {
    const key = `${provider}\u0000${verdict.origin}`;
    if (this.warned.has(key)) return;
    if (this.warned.size < MAX_REMEMBERED_WARNINGS) this.warned.add(key);
    this.logger.warn(
      `token provider "${provider}": request to ${verdict.origin} sent without its token: ${verdict.reason}`,
    );
  }
}
