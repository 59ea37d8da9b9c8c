import { z } from 'zod';
import { nonEmptyString } from './provider-options.schema.js';
import { privateKeyProblem } from './private-key.check.js';
import { privateKeyField } from './private-key.pem.js';
import { CLIENT_ASSERTION_ALGORITHMS } from './oauth2-algorithms.js';

/** RFC 7523 §2.1 grant type. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** RFC 8693 §2.1 grant type. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';
/** RFC 8693 §3 token type of an OAuth access token: the default subject and actor token type. */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const privateKeySchema = privateKeyField();

/**
 * `jwtBearer`: get tokens with the JWT-bearer grant (RFC 7523 §2.1), as service accounts do: an
 * assertion signed with `privateKey` (`iss`, `sub`, `aud`, `iat`, `exp`, a fresh `jti` per attempt).
 *
 * @publicApi
 */
export const jwtBearerSchema = z
  .object({
    /** PEM (PKCS#8) or private JWK. */
    privateKey: privateKeySchema,
    /** Default `RS256`. */
    algorithm: z
      .enum(CLIENT_ASSERTION_ALGORITHMS, { error: 'must be one of RS256, ES256, EdDSA' })
      .optional(),
    /** `kid` header. */
    keyId: nonEmptyString().optional(),
    /** `iss` claim. Default: `clientId`. */
    issuer: nonEmptyString().optional(),
    /** `sub` claim: the principal the token is for (a service account, a user). Default: `clientId`. */
    subject: nonEmptyString().optional(),
    /** `aud` claim. Default: the issuer (with discovery), else the token endpoint URL. */
    audience: nonEmptyString().optional(),
    /** Assertion lifetime. Default 300. */
    lifetimeSeconds: z.number().int().positive().max(3600).optional(),
    /** More claims for the assertion (e.g. `scope` for Google service accounts). */
    claims: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** A subject or actor token: another provider's token, or what a callback returns. */
const tokenSourceSchema = z.union(
  [
    z.object({ provider: nonEmptyString() }).strict(),
    z.custom<() => string | Promise<string>>((value) => typeof value === 'function'),
  ],
  { error: 'must be { provider: "<name>" } or a function returning the token' },
);

/**
 * `tokenExchange`: get tokens with the token-exchange grant (RFC 8693). `audience`, `resource` and
 * `scope` of the provider go into the request.
 *
 * @publicApi
 */
export const tokenExchangeSchema = z
  .object({
    /** Where the subject token comes from. A per-call `subjectToken` takes precedence. */
    subjectToken: tokenSourceSchema.optional(),
    /** Default `urn:ietf:params:oauth:token-type:access_token`. */
    subjectTokenType: nonEmptyString().optional(),
    /** Delegation (RFC 8693 §1.1): the party acting for the subject. */
    actorToken: tokenSourceSchema.optional(),
    /** Default `urn:ietf:params:oauth:token-type:access_token`. */
    actorTokenType: nonEmptyString().optional(),
    /** The type of token asked for. */
    requestedTokenType: nonEmptyString().optional(),
  })
  .strict();

/** The `jwtBearer` option of an `oauth2` provider: the JWT-bearer grant (RFC 7523) instead of client credentials. @publicApi */
export type JwtBearerOptions = z.input<typeof jwtBearerSchema>;
/** The `tokenExchange` option of an `oauth2` provider: the token-exchange grant (RFC 8693) instead of client credentials. @publicApi */
export type TokenExchangeOptions = z.input<typeof tokenExchangeSchema>;

/** The grant options, spread into the `oauth2` provider schema. */
export const oauth2GrantSchemas = {
  jwtBearer: jwtBearerSchema.optional(),
  tokenExchange: tokenExchangeSchema.optional(),
};

/** Cross-field rules of the grant options: `[path, message]` per problem. */
export function oauth2GrantProblems(value: {
  jwtBearer?: z.output<typeof jwtBearerSchema>;
  tokenExchange?: z.output<typeof tokenExchangeSchema>;
}): [string[], string][] {
  const problems: [string[], string][] = [];
  if (value.jwtBearer && value.tokenExchange) {
    problems.push([['tokenExchange'], 'cannot be combined with "jwtBearer": a provider uses one grant']);
  }
  if (value.jwtBearer) {
    const keyProblem = privateKeyProblem(value.jwtBearer.privateKey, value.jwtBearer.algorithm ?? 'RS256');
    if (keyProblem) problems.push([['jwtBearer', 'privateKey'], keyProblem]);
  }
  if (value.tokenExchange?.actorTokenType && !value.tokenExchange.actorToken) {
    problems.push([['tokenExchange', 'actorTokenType'], 'needs "actorToken"']);
  }
  return problems;
}

/** `jwtBearer` as its schema parsed it. */
export type JwtBearerConfig = z.output<typeof jwtBearerSchema>;

/** `tokenExchange` as its schema parsed it. */
export type TokenExchangeConfig = z.output<typeof tokenExchangeSchema>;
