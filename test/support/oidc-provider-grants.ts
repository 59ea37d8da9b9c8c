import { errors, type KoaContextWithOIDC, type Provider } from 'oidc-provider';
import { jwtVerify, type CryptoKey, type JWTPayload, type KeyObject } from 'jose';

/**
 * The RFC 7523 and RFC 8693 grants for oidc-provider, through its `registerGrantType`: the server
 * side the strategy's requests are checked against. Each issues oidc-provider's own
 * client-credentials access token, so a token the strategy got is one the server knows.
 */

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

type GrantContext = KoaContextWithOIDC & { oidc: { params: Record<string, string | undefined> } };

async function issue(provider: Provider, ctx: GrantContext, extra: Record<string, unknown>): Promise<string> {
  const token = new provider.ClientCredentials({
    client: ctx.oidc.client!,
    scope: ctx.oidc.params.scope,
    extra,
  });
  const value = await token.save();
  ctx.body = {
    access_token: value,
    token_type: 'Bearer',
    expires_in: token.expiration,
    ...(token.scope ? { scope: token.scope } : {}),
    ...('issued_token_type' in extra ? { issued_token_type: extra.issued_token_type } : {}),
  };
  return value;
}

/** One verified assertion, as the JWT-bearer grant saw it. */
export interface JwtBearerLogEntry {
  payload: JWTPayload;
  /** The access token issued for it. */
  token: string;
}

/**
 * RFC 7523 §3: the assertion must be signed by the trusted issuer's key, name the token endpoint
 * (or the issuer) as `aud`, be unexpired, and its `jti` must not have been seen (replay).
 */
export function registerJwtBearerGrant(
  provider: Provider,
  trusted: { issuer: string; key: CryptoKey | KeyObject },
  log: JwtBearerLogEntry[],
): void {
  const seen = new Set<string>();
  provider.registerGrantType(
    JWT_BEARER,
    async (ctx) => {
      const context = ctx as unknown as GrantContext;
      const assertion = context.oidc.params.assertion;
      if (!assertion) throw new errors.InvalidRequest('missing assertion');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(assertion, trusted.key, {
          issuer: trusted.issuer,
          audience: [provider.issuer, `${provider.issuer}/token`],
          requiredClaims: ['sub', 'exp', 'jti'],
        }));
      } catch {
        throw new errors.InvalidGrant();
      }
      if (seen.has(payload.jti!)) throw new errors.InvalidGrant();
      seen.add(payload.jti!);
      log.push({ payload, token: await issue(provider, context, { sub: payload.sub }) });
    },
    ['assertion', 'scope'],
  );
}

/** One accepted exchange, as the server saw it. */
export interface TokenExchangeLogEntry {
  /** The access token issued. */
  token: string;
  subjectClient: string;
  actorClient?: string;
  audience?: string;
  resource?: string;
  requestedTokenType?: string;
}

/**
 * RFC 8693 §2: the subject (and actor) token must be a live access token of this server, with the
 * declared type; `audience` must be one the server knows (`invalid_target` otherwise, §2.2.2).
 */
export function registerTokenExchangeGrant(
  provider: Provider,
  audiences: readonly string[],
  log: TokenExchangeLogEntry[],
): void {
  const liveClientOf = async (token: string | undefined, type: string | undefined, field: string) => {
    if (!token) throw new errors.InvalidRequest(`missing ${field}`);
    if (type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`unsupported ${field}_type`);
    const found = await provider.ClientCredentials.find(token);
    if (!found || found.isExpired) throw new errors.InvalidGrant();
    return found.clientId ?? '';
  };
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx) => {
      const context = ctx as unknown as GrantContext;
      const params = context.oidc.params;
      const subjectClient = await liveClientOf(
        params.subject_token,
        params.subject_token_type,
        'subject_token',
      );
      const actorClient =
        params.actor_token === undefined
          ? undefined
          : await liveClientOf(params.actor_token, params.actor_token_type, 'actor_token');
      if (params.audience !== undefined && !audiences.includes(params.audience)) {
        throw new errors.InvalidTarget('unknown audience');
      }
      const token = await issue(provider, context, {
        sub: subjectClient,
        ...(actorClient ? { act: { sub: actorClient } } : {}),
        issued_token_type: ACCESS_TOKEN_TYPE,
      });
      log.push({
        token,
        subjectClient,
        actorClient,
        audience: params.audience,
        resource: params.resource,
        requestedTokenType: params.requested_token_type,
      });
    },
    [
      'subject_token',
      'subject_token_type',
      'actor_token',
      'actor_token_type',
      'audience',
      'resource',
      'requested_token_type',
      'scope',
    ],
  );
}
