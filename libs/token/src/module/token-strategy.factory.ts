import type { InjectionToken } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { Logger } from '@nestjs/common';
import { TokenService } from './token.service.js';
import type { Clock } from '../core/clock.js';
import type { ProviderOptions } from '../config/provider-options.schema.js';
import type { CustomProviderConfig } from '../config/custom.options.js';
import { JwtStrategy } from '../strategies/jwt.strategy.js';
import { OAuth2Strategy } from '../strategies/oauth2/oauth2.strategy.js';
import { importPrivateKey } from '../config/private-key.check.js';
import {
  DiscoveredEndpointRefusedError,
  type AuthorizationServerMetadata,
} from '../strategies/oauth2/oauth2-discovery.js';
import { unlistedGrantTypes } from '../strategies/oauth2/oauth2-grant-support.js';
import { describeEndpoint } from '../core/token-endpoint-url.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { markValidated } from '../config/validation.js';
import type { ParsedProviderConfig } from '../config/token.options.js';
import { isTokenStrategy, type TokenStrategy } from '../core/token-strategy.interface.js';

type OAuth2ProviderConfig = Extract<ParsedProviderConfig, { type: 'oauth2' }>;

/** Builds the strategy a provider's (validated) configuration describes. */
export async function createStrategy(
  name: string,
  config: ParsedProviderConfig,
  moduleRef: ModuleRef,
  clock: Clock,
): Promise<TokenStrategy> {
  switch (config.type) {
    case 'jwt': {
      const strategy = new JwtStrategy(config, clock);
      if (config.privateKey && !config.algorithm?.startsWith('HS')) {
        await importAtStartUp(name, config.privateKey, config.algorithm ?? 'HS256');
      }
      return strategy;
    }
    case 'oauth2': {
      const strategy = new OAuth2Strategy(config, clock, {
        tokenOf: providerTokenLookup(moduleRef),
        providerName: name,
      });
      if (config.clientAuth === 'private_key_jwt' && config.privateKey) {
        await importAtStartUp(name, config.privateKey, config.signingAlgorithm ?? 'RS256');
      }
      if (config.jwtBearer) {
        await importAtStartUp(name, config.jwtBearer.privateKey, config.jwtBearer.algorithm ?? 'RS256');
      }
      await discoverAtStartUp(name, strategy, config);
      return strategy;
    }
    case 'custom':
      return resolveCustomStrategy(name, config, moduleRef);
  }
}

/**
 * Fetches an issuer's metadata once at start-up. An issuer that is down does not stop the
 * application (the strategy keeps retrying with backoff, and token requests fail naming the
 * issuer until it answers) unless the provider says `discovery.requiredAtStartup: true`. Metadata
 * naming an endpoint the library refuses to send credentials to always stops start-up.
 * A grant the issuer's `grant_types_supported` leaves out is a warning, not an error.
 */
async function discoverAtStartUp(
  name: string,
  strategy: OAuth2Strategy,
  config: OAuth2ProviderConfig,
): Promise<void> {
  const discovery = strategy.discovery;
  if (discovery === undefined) return;
  const failure = await discovery.warmUp();
  if (failure === undefined) {
    warnOfUnlistedGrants(name, config, await discovery.metadata());
    return;
  }
  // An endpoint refused for where it is will be refused on every retry: stop now, naming the field.
  const refused = failure instanceof DiscoveredEndpointRefusedError;
  if (refused || config.discovery?.requiredAtStartup === true) {
    strategy.discovery?.close();
    throw new InvalidTokenOptionsError(
      `token provider "${name}": ${failure.message}`,
      name,
      refused ? failure.field : 'issuer',
    );
  }
  new Logger('TokenModule').warn(`token provider "${name}": ${failure.message}; retrying in the background`);
}

function warnOfUnlistedGrants(
  name: string,
  config: OAuth2ProviderConfig,
  metadata: AuthorizationServerMetadata,
): void {
  const unlisted = unlistedGrantTypes(config, metadata);
  if (unlisted.length === 0) return;
  new Logger('TokenModule').warn(
    `token provider "${name}": the issuer ${describeEndpoint(metadata.issuer)} does not list ` +
      `${unlisted.map((grant) => `"${grant}"`).join(', ')} in its grant_types_supported; ` +
      'token requests are sent anyway (servers often list their grants incompletely)',
  );
}

/** `tokenExchange` sources `{ provider }`: that provider's current token, through the service. */
function providerTokenLookup(moduleRef: ModuleRef): (provider: string) => Promise<string> {
  return async (provider) => {
    const service = moduleRef.get(TokenService, { strict: false });
    return (await service.getToken(provider)).token;
  };
}

/**
 * Imports a provider's private key the way signing will, so a key that parses but cannot sign stops
 * start-up naming the provider and the field instead of failing the first call.
 */
async function importAtStartUp(
  name: string,
  privateKey: string | Record<string, unknown>,
  algorithm: string,
): Promise<void> {
  await importPrivateKey(privateKey, algorithm, `token provider "${name}"`, name);
}

/** The options shared by every provider, as `TokenService.register` takes them. */
export function providerOptionsOf(config: ParsedProviderConfig): ProviderOptions {
  const { safetyMarginMs, baseUrls, strictOrigin, allowInsecureHttp } = config;
  return markValidated({ safetyMarginMs, baseUrls, strictOrigin, allowInsecureHttp });
}

async function resolveCustomStrategy(
  name: string,
  config: CustomProviderConfig,
  moduleRef: ModuleRef,
): Promise<TokenStrategy> {
  let strategy: unknown;
  if (config.useExisting !== undefined) {
    strategy = lookup(name, config.useExisting, moduleRef, 'useExisting');
  } else if (config.useFactory !== undefined) {
    const deps = (config.inject ?? []).map((token) => lookup(name, token, moduleRef, 'inject'));
    strategy = await config.useFactory(...deps);
  } else if (config.useClass !== undefined) {
    // The application's own instance when the class is a provider; otherwise one built with DI.
    strategy = tryGet(config.useClass, moduleRef) ?? (await moduleRef.create(config.useClass));
  }
  if (!isTokenStrategy(strategy)) {
    throw new InvalidTokenOptionsError(
      `token provider "${name}": the custom strategy must have a string "cacheKey" and a "generate()" method`,
      name,
      'strategy',
    );
  }
  return strategy;
}

function lookup(name: string, token: InjectionToken, moduleRef: ModuleRef, field: string): unknown {
  const found = tryGet(token, moduleRef);
  if (found === undefined) {
    throw new InvalidTokenOptionsError(
      `token provider "${name}": "${field}" names ${describeToken(token)}, which is not a provider in reach`,
      name,
      field,
    );
  }
  return found;
}

function tryGet(token: InjectionToken, moduleRef: ModuleRef): unknown {
  try {
    return moduleRef.get(token, { strict: false });
  } catch {
    return undefined;
  }
}

function describeToken(token: InjectionToken): string {
  if (typeof token === 'function') return token.name;
  return String(token);
}
