import type { z } from 'zod';
import type { oauth2ProviderSchema } from './oauth2.options.js';
import { subjectDigest } from './oauth2-token-exchange.js';

type GrantKeyConfig = Pick<z.output<typeof oauth2ProviderSchema>, 'jwtBearer' | 'tokenExchange'>;

/** What besides scope, audience and resource changes this provider's tokens: its grant and subject. */
export function grantKeyParts(
  config: GrantKeyConfig,
  subjectToken: string | undefined,
): Record<string, string> {
  const source = (value: unknown) =>
    value === undefined
      ? ''
      : typeof value === 'function'
        ? `fn:${(value as () => unknown).name}`
        : JSON.stringify(value);
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
        source(exchange.subjectToken),
        exchange.subjectTokenType ?? null,
        source(exchange.actorToken),
        exchange.actorTokenType ?? null,
        exchange.requestedTokenType ?? null,
        subjectDigest(subjectToken) ?? null,
      ]),
    };
  }
  return {};
}
