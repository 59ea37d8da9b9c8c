import type { GrantParameters } from './oauth2-jwt-bearer.js';
import type { ParsedOAuth2Config } from '../../config/oauth2.options.js';

type RequestParameterConfig = Pick<ParsedOAuth2Config, 'scope' | 'resource' | 'audience' | 'extraParams'>;

/** RFC 6749 §6: the refresh-token grant, for the provider's scope and resources. */
export function refreshGrantParameters(
  config: RequestParameterConfig,
  refreshToken: string,
): GrantParameters {
  const params = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  appendScopeAndResource(config, params);
  return { params, secrets: [refreshToken] };
}

/** The provider's own grant with its scope, resources (RFC 8707), audience and extra parameters. */
export function withRequestParameters(
  config: RequestParameterConfig,
  grant: GrantParameters,
): GrantParameters {
  const { params } = grant;
  appendScopeAndResource(config, params);
  if (config.audience) params.set('audience', config.audience);
  for (const [name, value] of Object.entries(config.extraParams ?? {})) params.set(name, value);
  return grant;
}

function appendScopeAndResource(config: RequestParameterConfig, params: URLSearchParams): void {
  const { scope, resource } = config;
  if (scope !== undefined) params.set('scope', typeof scope === 'string' ? scope : scope.join(' '));
  for (const value of resource === undefined ? [] : [resource].flat()) params.append('resource', value);
}
