import { z } from 'zod';
import { nonEmptyString, providerOptionsSchema } from './provider-options.schema.js';
import { privateKeyProblem } from './private-key.check.js';
import { privateKeyField } from './private-key.pem.js';

const symmetric = ['HS256', 'HS384', 'HS512'] as const;
const asymmetric = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/**
 * A self-signed JWT, KlingAI style: `iss` = access key, `exp` = now + expiresIn, `nbf` = now − 5 s.
 *
 * @publicApi
 * @example
 * { type: 'jwt', accessKey: process.env.KLING_AK, secretKey: process.env.KLING_SK }
 */
export const jwtProviderSchema = providerOptionsSchema
  .extend({
    type: z.literal('jwt'),
    /** Goes into `iss` (and the cache key). */
    accessKey: nonEmptyString(),
    /** HMAC secret, for HS256/384/512. */
    secretKey: nonEmptyString().optional(),
    /** PEM (PKCS#8, PKCS#1 or SEC1) or JWK private key, for RS*, PS*, ES* and EdDSA. */
    privateKey: privateKeyField().optional(),
    /** Default `HS256`. */
    algorithm: z.enum([...symmetric, ...asymmetric]).optional(),
    /** Token lifetime in seconds. Default 1800 (30 minutes). */
    expiresInSeconds: z.number().int().positive().optional(),
    /** `nbf` is set this many seconds in the past. Default 5. */
    notBeforeSkewSeconds: z.number().int().nonnegative().optional(),
    /** Extra claims; `iss`, `exp`, `nbf` are always set by the strategy. */
    claims: z.record(z.string(), z.unknown()).optional(),
    /** Extra protected-header fields, e.g. `kid`. */
    header: z.record(z.string(), z.unknown()).optional(),
    /** `Authorization` scheme. Default `Bearer`. */
    tokenType: nonEmptyString().optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const algorithm = value.algorithm ?? 'HS256';
    const isSymmetric = (symmetric as readonly string[]).includes(algorithm);
    if (isSymmetric && !value.secretKey) {
      ctx.addIssue({ code: 'custom', path: ['secretKey'], message: `is required for ${algorithm}` });
    }
    if (!isSymmetric) {
      const problem = value.privateKey
        ? privateKeyProblem(value.privateKey, algorithm)
        : `is required for ${algorithm}`;
      if (problem) ctx.addIssue({ code: 'custom', path: ['privateKey'], message: problem });
    }
  });

/** A `jwt` provider: a self-signed JWT (KlingAI style: `iss` = access key), HMAC or private key. @publicApi */
export type JwtProviderConfig = z.input<typeof jwtProviderSchema>;

/** A `jwt` provider as its schema parsed it (defaults applied). */
export type ParsedJwtConfig = z.output<typeof jwtProviderSchema>;
