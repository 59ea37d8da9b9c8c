import type { AuthorizationServerMetadata } from './oauth2-discovery.js';
import { JWT_BEARER_GRANT_TYPE, TOKEN_EXCHANGE_GRANT_TYPE } from '../../config/oauth2-grants.options.js';
import type { ParsedOAuth2Config } from '../../config/oauth2.options.js';

type GrantConfig = Pick<ParsedOAuth2Config, 'jwtBearer' | 'tokenExchange' | 'useRefreshToken'>;

/**
 * The grant types a provider's token requests use, as RFC 8414's `grant_types_supported` names
 * them. `refresh_token` only when `useRefreshToken: true` is configured: by default a refresh token
 * is spent only if the server hands one out, which a server that does not list the grant may never do.
 */
export function grantTypesOf(config: GrantConfig): string[] {
  const own = config.jwtBearer
    ? JWT_BEARER_GRANT_TYPE
    : config.tokenExchange
      ? TOKEN_EXCHANGE_GRANT_TYPE
      : 'client_credentials';
  return config.useRefreshToken === true ? [own, 'refresh_token'] : [own];
}

/**
 * The provider's grant types the issuer's `grant_types_supported` leaves out; none when the
 * metadata has no such list. Only worth a warning: many servers list their grants incompletely.
 */
export function unlistedGrantTypes(config: GrantConfig, metadata: AuthorizationServerMetadata): string[] {
  const listed = metadata.grant_types_supported;
  if (listed === undefined) return [];
  return grantTypesOf(config).filter((grant) => !listed.includes(grant));
}
