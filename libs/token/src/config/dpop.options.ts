import { z } from 'zod';
import { privateKeyField } from './private-key.pem.js';

/** Algorithms DPoP proofs are signed with. */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/**
 * `dpop` of an `oauth2` provider: sender-constrained tokens (RFC 9449). `true` generates an ES256
 * key at start-up; give `privateKey` to use the same key on every replica.
 *
 * @publicApi
 */
export const dpopSchema = z.union([
  z.literal(true),
  z
    .object({
      /** PKCS#8 PEM or private JWK. Default: a key generated at start-up (per process). */
      privateKey: privateKeyField().optional(),
      /** Default: from the key (EC P-256 → ES256, Ed25519 → EdDSA, RSA → RS256); ES256 for a generated key. */
      algorithm: z.enum(DPOP_ALGORITHMS, { error: 'must be one of ES256, EdDSA, RS256, PS256' }).optional(),
      /** Origins whose nonce is remembered. Default 100. */
      maxNonces: z.number().int().positive().max(10_000).optional(),
    })
    .strict(),
]);

/** The `dpop` option of an `oauth2` provider: sender-constrained tokens with DPoP proofs (RFC 9449). @publicApi */
export type DpopOptions = z.input<typeof dpopSchema>;

/** `dpop` as its schema parsed it. */
export type DpopConfig = z.output<typeof dpopSchema>;
