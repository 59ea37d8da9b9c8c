import type { InjectionToken } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Clock } from '../clock.js';
import type { ProviderOptions } from './provider-options.schema.js';
import type { CustomProviderConfig } from '../strategies/custom.options.js';
import { JwtStrategy } from '../strategies/jwt.strategy.js';
import { OAuth2Strategy } from '../strategies/oauth2/oauth2.strategy.js';
import { InvalidTokenOptionsError } from '../token.errors.js';
import type { providerConfigSchema } from '../token.options.js';
import { isTokenStrategy, type TokenStrategy } from '../token-strategy.interface.js';
import type { z } from 'zod';

type ParsedProviderConfig = z.output<typeof providerConfigSchema>;

/** Builds the strategy a provider's (validated) configuration describes. */
export async function createStrategy(
  name: string,
  config: ParsedProviderConfig,
  moduleRef: ModuleRef,
  clock: Clock,
): Promise<TokenStrategy> {
  switch (config.type) {
    case 'jwt':
      return new JwtStrategy(config, clock);
    case 'oauth2':
      return new OAuth2Strategy(config, clock);
    case 'custom':
      return resolveCustomStrategy(name, config, moduleRef);
  }
}

/** The options shared by every provider, as `TokenService.register` takes them. */
export function providerOptionsOf(config: ParsedProviderConfig): ProviderOptions {
  const { safetyMarginMs, baseUrls, strictOrigin, allowInsecureHttp } = config;
  return { safetyMarginMs, baseUrls, strictOrigin, allowInsecureHttp };
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
