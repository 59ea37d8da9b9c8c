import { InvalidTokenOptionsError, TokenResponseError } from '../../core/token.errors.js';
import type { TokenInfo } from '../../core/token-info.js';
import {
  ACCESS_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT_TYPE,
  type TokenExchangeConfig,
} from '../../config/oauth2-grants.options.js';
import type { GrantParameters } from './oauth2-jwt-bearer.js';

type TokenSource = NonNullable<TokenExchangeConfig['subjectToken']>;

/** Gets another provider's current token (the module wires it to `TokenService.getToken`). */
export type ProviderTokenLookup = (provider: string) => Promise<string>;

/**
 * Builds token-exchange requests (RFC 8693 §2.1). The subject token is a per-call value, another
 * provider's token, or a callback's answer; the actor token the same (without per-call value).
 */
export class TokenExchangeGrant {
  readonly #config: TokenExchangeConfig;
  readonly #subjectToken?: string;
  readonly #lookup?: ProviderTokenLookup;

  constructor(
    config: TokenExchangeConfig,
    subjectToken: string | undefined,
    lookup: ProviderTokenLookup | undefined,
  ) {
    this.#config = config;
    this.#subjectToken = subjectToken;
    this.#lookup = lookup;
  }

  async parameters(): Promise<GrantParameters> {
    const config = this.#config;
    const subject = this.#subjectToken ?? (await this.#resolve(config.subjectToken, 'subjectToken'));
    const params = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT_TYPE,
      subject_token: subject,
      subject_token_type: config.subjectTokenType ?? ACCESS_TOKEN_TYPE,
    });
    const secrets = [subject];
    if (config.actorToken) {
      const actor = await this.#resolve(config.actorToken, 'actorToken');
      params.set('actor_token', actor);
      params.set('actor_token_type', config.actorTokenType ?? ACCESS_TOKEN_TYPE);
      secrets.push(actor);
    }
    if (config.requestedTokenType) params.set('requested_token_type', config.requestedTokenType);
    return { params, secrets };
  }

  async #resolve(source: TokenSource | undefined, field: string): Promise<string> {
    let token: unknown;
    if (source === undefined) {
      throw new InvalidTokenOptionsError(
        `oauth2 token exchange: no "${field}": configure one or pass "subjectToken" per call`,
        undefined,
        `tokenExchange.${field}`,
      );
    }
    if (typeof source === 'function') token = await source();
    else if (this.#lookup) token = await this.#lookup(source.provider);
    else {
      throw new InvalidTokenOptionsError(
        `oauth2 token exchange: "${field}.provider" needs the token module (register the provider there)`,
        undefined,
        `tokenExchange.${field}`,
      );
    }
    if (typeof token !== 'string' || token.length === 0) {
      throw new InvalidTokenOptionsError(
        `oauth2 token exchange: "${field}" gave no token (a non-empty string is required)`,
        undefined,
        `tokenExchange.${field}`,
      );
    }
    return token;
  }
}

/** RFC 8693 §2.2.1: `issued_token_type` is required; it stays in `TokenInfo.extra`. */
export function checkIssuedTokenType(info: TokenInfo): void {
  const type = info.extra.issued_token_type;
  if (typeof type !== 'string' || type.length === 0) {
    throw new TokenResponseError('token exchange response has no "issued_token_type" (RFC 8693 §2.2.1)');
  }
}
