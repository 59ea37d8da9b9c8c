/** The signing algorithms an `oauth2` provider's options may name (checked by its schema). */

/** Algorithms `private_key_jwt` signs with. */
export const CLIENT_ASSERTION_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type ClientAssertionAlgorithm = (typeof CLIENT_ASSERTION_ALGORITHMS)[number];

/** Algorithms `client_secret_jwt` (RFC 7523 §2.2, HMAC with the client secret) signs with. */
export const CLIENT_SECRET_JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export type ClientSecretJwtAlgorithm = (typeof CLIENT_SECRET_JWT_ALGORITHMS)[number];
