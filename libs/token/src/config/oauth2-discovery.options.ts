import { z } from 'zod';

/**
 * `discovery` options of an `oauth2` provider configured with `issuer`.
 *
 * @publicApi
 */
export const oauth2DiscoverySchema = z
  .object({
    /** How long fetched metadata is used before it is fetched again. Default 3 600 000 (1 h). */
    ttlMs: z.number().int().positive().optional(),
    /** Stop start-up when the issuer cannot be reached. Default false: start, retry with backoff. */
    requiredAtStartup: z.boolean().optional(),
    /** Longest wait between two failed attempts (the wait doubles from 1 s). Default 60 000. */
    maxRetryDelayMs: z.number().int().positive().optional(),
    /** Per fetch. Default 10 000. */
    timeoutMs: z.number().int().positive().optional(),
    /**
     * Accept a token endpoint (or mTLS alias) the metadata puts on a link-local address, or on a
     * loopback address when the issuer is not loopback. Default false: such metadata is refused.
     */
    allowLocalEndpoints: z.boolean().optional(),
  })
  .strict();

/** How an `oauth2` provider with an `issuer` reads the server's metadata (RFC 8414). @publicApi */
export type OAuth2DiscoveryOptions = z.input<typeof oauth2DiscoverySchema>;
