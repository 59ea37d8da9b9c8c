import type { Logger } from '@nestjs/common';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { describeRequestParameters, variantKeyOf } from '../core/token-request-parameters.js';
import { admitVariantStrategy } from '../core/token-admission.js';
import type { TokenRequestParameters } from '../core/token-strategy.interface.js';
import { TokenCacheEntry } from './token-cache-entry.js';

/** What choosing a per-call variant needs from the service. */
export interface VariantLimits {
  /** Variants kept per provider; the least recently used is dropped past it. */
  maxVariants: number;
  now: number;
  logger: Logger;
  /** Forgets a dropped variant (its token and its place in the schedule). */
  evict: (variant: TokenCacheEntry) => void;
}

/**
 * The entry for these per-call parameters (scope, audience, resource, tenant): the provider's own
 * without any, else a variant with its own strategy, cache key, token and schedule slot, kept in
 * least-recently-used order.
 */
export function variantOf(
  base: TokenCacheEntry,
  parameters: TokenRequestParameters | undefined,
  limits: VariantLimits,
): TokenCacheEntry {
  if (parameters === undefined) return base;
  // Keyed by the parameters themselves, never by their label: a label is for people to read.
  const key = variantKeyOf(parameters);
  if (key === undefined) return base;
  const variants = (base.variants ??= new Map());
  const existing = variants.get(key);
  if (existing !== undefined) {
    // Map order is use order: the least recently used variant is the first key.
    variants.delete(key);
    variants.set(key, existing);
    return existing;
  }
  if (base.strategy.withParameters === undefined) {
    throw new InvalidTokenOptionsError(
      `token provider "${base.name}" takes no per-call scope, audience, resource or tenant`,
      base.name,
      'parameters',
    );
  }
  if (variants.size >= limits.maxVariants) dropLeastRecentlyUsed(base, variants, limits);
  const strategy = admitVariantStrategy(base.name, base.strategy, parameters);
  const label = describeRequestParameters(parameters);
  const variant = new TokenCacheEntry(`${base.name} (${label})`, strategy, base.options, base.safetyMarginMs);
  variants.set(key, variant);
  return variant;
}

function dropLeastRecentlyUsed(
  base: TokenCacheEntry,
  variants: Map<string, TokenCacheEntry>,
  limits: VariantLimits,
): void {
  const [key, variant] = variants.entries().next().value!;
  if (variant.info !== undefined && !variant.info.isExpiredAt(limits.now) && base.variantsOverflowedOnce()) {
    limits.logger.warn(
      `token provider "${base.name}": more than ${limits.maxVariants} per-call variants in use; ` +
        'dropping the least recently used (raise maxVariantsPerProvider, or register a provider per tenant)',
    );
  }
  limits.evict(variant);
  variants.delete(key);
}
