import { Injectable, Logger } from '@nestjs/common';
import { TokenOriginError, TokenSenderConstraintError } from '../core/token.errors.js';
import type { TokenInfo } from '../core/token-info.js';
import { TokenSource, type ProviderOriginRules, type TokenProvider } from '../core/token-source.js';
import { describeUnboundOrigins } from './origin-description.js';
import { checkTokenOrigin, type OriginVerdict } from './origin-policy.js';
import { dpopRequestSigner, type DpopRequestSigner } from './sender-constraints.js';

/** Distinct (provider, origin) warnings remembered; past this, warnings are no longer de-duplicated. */
const MAX_REMEMBERED_WARNINGS = 1_000;

/**
 * What the axios interceptor and the fetch wrapper share: which provider a request is for (asked
 * once), which token (if any) it may carry, on which hops. Knows nothing of axios or fetch;
 * `TokenService` knows nothing of HTTP.
 *
 * @publicApi
 */
@Injectable()
export class TokenRequestAuthorizer {
  private readonly logger = new Logger('TokenHttp');
  private readonly warned = new Set<string>();

  constructor(private readonly tokens: TokenSource) {}

  /**
   * The registered provider a request is for, asked of the token source once per request: its origin
   * rules, sender constraint, token and 401 renewal then serve every hop and the retry. Throws
   * `TokenProviderNotFoundError` for an unknown name.
   */
  provider(name: string): TokenProvider {
    return this.tokens.provider(name);
  }

  /**
   * The provider's token for a request to `url`, or `undefined` when the origin rules say the request
   * goes without it (warned once per provider and origin). With `strictOrigin: true` such a request
   * is rejected with `TokenOriginError` instead.
   */
  async tokenFor(
    provider: TokenProvider,
    url: URL | undefined,
    /** Set when the request goes over a transport without the client certificate (named in the error). */
    withoutCertificate?: string,
  ): Promise<TokenInfo | undefined> {
    const rules = provider.originRules;
    if (rules.baseUrls === undefined || rules.baseUrls.length === 0) this.warnUnbound(provider.name, rules);
    if (!this.allows(provider, url, '')) return undefined;
    // A certificate-bound token without the certificate is refused by the API, and each 401 would
    // then cost a token request: refuse before getting or sending one.
    if (withoutCertificate !== undefined && provider.senderConstraint?.mtlsAgent !== undefined) {
      throw new TokenSenderConstraintError(provider.name, withoutCertificate);
    }
    return provider.getToken();
  }

  /** The DPoP signer for requests carrying `info`, when the provider's tokens are DPoP-bound. */
  dpopSignerFor(provider: TokenProvider, info: TokenInfo): DpopRequestSigner | undefined {
    return dpopRequestSigner(provider.senderConstraint, info);
  }

  /**
   * Whether a request that carries the provider's token may keep it on a redirect to `url`: the same
   * origin rules as the first hop. `false` (warned once per provider and origin) means the next hop
   * goes without it; with `strictOrigin: true` the redirect is refused with `TokenOriginError`.
   */
  mayFollowRedirect(provider: TokenProvider, url: URL | undefined): boolean {
    return this.allows(provider, url, 'after a redirect, ');
  }

  private allows(provider: TokenProvider, url: URL | undefined, context: string): boolean {
    const rules = provider.originRules;
    const verdict = checkTokenOrigin(url, rules);
    if (verdict.allowed) return true;
    const reason = `${context}${verdict.reason}`;
    if (rules.strictOrigin === true) throw new TokenOriginError(provider.name, verdict.origin, reason);
    this.warnOnce(provider.name, { ...verdict, reason });
    return false;
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
