import { z } from 'zod';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { describeZodIssue } from './validation.js';

/**
 * Options every provider accepts, whatever its strategy.
 *
 * @publicApi
 */
export const providerOptionsSchema = z.object({
  /** Refresh a token this long before it expires (capped at a quarter of its lifetime). Default 300 000. */
  safetyMarginMs: z.number().int().nonnegative().optional(),
  /**
   * Origins (`https://api.klingai.com`) the provider's token may be sent to by the HTTP integration.
   * Empty or missing: any origin.
   */
  baseUrls: z.array(z.url()).optional(),
  /** With `baseUrls`: reject a request to another origin instead of sending it without the header. */
  strictOrigin: z.boolean().optional(),
  /** Allow plain `http` token endpoints and API origins that are not loopback. Default false. */
  allowInsecureHttp: z.boolean().optional(),
});

/** Options every provider accepts (margin, allowed origins); the third argument of `TokenService.register`. @publicApi */
export type ProviderOptions = z.infer<typeof providerOptionsSchema>;

/** `options` parsed for `TokenService.register`, or an error naming the provider and the field. */
export function parseProviderOptions(name: string, options: unknown): ProviderOptions {
  const parsed = providerOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const { field, message } = describeZodIssue(parsed.error.issues[0]);
  throw new InvalidTokenOptionsError(`token provider "${name}": ${message}`, name, field);
}

/** A non-empty string, described without echoing its value. */
export const nonEmptyString = () =>
  z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string');
