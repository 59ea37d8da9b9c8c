import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { USE_TOKEN_METADATA } from '../core/token.constants.js';

/** What `@UseToken()` says: a provider name, `false` (off), or `undefined` (no decorator). */
export type UseTokenMetadata = string | false | undefined;

/**
 * Reads `@UseToken()` metadata from classes and methods.
 *
 * @publicApi
 */
@Injectable()
export class TokenMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  /** The class's own decorator, or one inherited from a decorated parent class. */
  getClassProvider(target: abstract new (...args: any[]) => unknown): UseTokenMetadata {
    return this.reflector.get<UseTokenMetadata>(USE_TOKEN_METADATA, target);
  }

  getMethodProvider(method: (...args: any[]) => unknown): UseTokenMetadata {
    return this.reflector.get<UseTokenMetadata>(USE_TOKEN_METADATA, method);
  }
}
