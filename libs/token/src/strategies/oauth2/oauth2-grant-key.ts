import type { ParsedOAuth2Config } from '../../config/oauth2.options.js';
import { subjectDigest } from '../../core/oauth2-cache-key.js';

type GrantKeyConfig = Pick<ParsedOAuth2Config, 'jwtBearer' | 'tokenExchange'>;

/** Process-local ids of callback sources of strategies built outside a module (no provider name). */
const callbackIds = new WeakMap<object, number>();
let nextCallbackId = 0;

/**
 * What besides scope, audience and resource changes this provider's tokens: its grant and subject.
 * A callback source is keyed by the provider it belongs to (`owner`): a function's name says nothing
 * (every inline arrow is named after its property), and the provider name is the same on every
 * replica of a fleet. Without an owner, by the function object itself (never shared across processes).
 */
export function grantKeyParts(
  config: GrantKeyConfig,
  subjectToken: string | undefined,
  owner?: string,
): Record<string, string> {
  const source = (value: unknown, field: string) => {
    if (value === undefined) return '';
    if (typeof value !== 'function') return JSON.stringify(value);
    if (owner !== undefined) return `fn:provider:${owner}:${field}`;
    let id = callbackIds.get(value);
    if (id === undefined) callbackIds.set(value, (id = ++nextCallbackId));
    return `fn:instance:${id}:${field}`;
  };
  if (config.jwtBearer) {
    const { issuer, subject, audience, claims } = config.jwtBearer;
    return {
      ' grant': 'jwt-bearer',
      ' assertion': JSON.stringify([issuer, subject, audience, claims ?? null]),
    };
  }
  if (config.tokenExchange) {
    const exchange = config.tokenExchange;
    return {
      ' grant': 'token-exchange',
      ' exchange': JSON.stringify([
        source(exchange.subjectToken, 'subjectToken'),
        exchange.subjectTokenType ?? null,
        source(exchange.actorToken, 'actorToken'),
        exchange.actorTokenType ?? null,
        exchange.requestedTokenType ?? null,
        subjectDigest(subjectToken) ?? null,
      ]),
    };
  }
  return {};
}
