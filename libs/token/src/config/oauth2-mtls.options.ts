import { z } from 'zod';
import { pemText } from './private-key.pem.js';

/** RFC 8705 §2 client authentication methods. */
export const MTLS_CLIENT_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/**
 * `mtls` of an `oauth2` provider: the client certificate (RFC 8705) presented to the token endpoint
 * (for `tls_client_auth` / `self_signed_tls_client_auth`, and for certificate-bound tokens with any
 * method) and, by the axios integration and the fetch wrapper, to the provider's API origins.
 *
 * @publicApi
 */
export const mtlsSchema = z
  .object({
    /** PEM certificate (chain). */
    certificate: pemText().refine((value) => value.includes(PEM_CERTIFICATE), {
      message: `must be a PEM certificate ("${PEM_CERTIFICATE}")`,
    }),
    /** PEM private key of the certificate. */
    privateKey: pemText(),
    /** PEM CA certificate(s) to trust for the servers, besides the system ones. */
    ca: pemText().optional(),
    /** Send the certificate on the provider's API requests too (certificate-bound tokens). Default true. */
    boundTokens: z.boolean().optional(),
  })
  .strict();

/** The `mtls` option of an `oauth2` provider: client certificate authentication and certificate-bound tokens (RFC 8705). @publicApi */
export type MtlsOptions = z.input<typeof mtlsSchema>;
/** `mtls` as its schema parsed it. */
export type MtlsConfig = z.output<typeof mtlsSchema>;
