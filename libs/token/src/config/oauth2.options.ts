import { z } from 'zod';
import { tokenUrlProblem } from '../core/token-endpoint-url.js';
import { nonEmptyString, providerOptionsSchema } from './provider-options.schema.js';
import { CLIENT_ASSERTION_ALGORITHMS, CLIENT_SECRET_JWT_ALGORITHMS } from './oauth2-algorithms.js';
import { privateKeyProblem } from './private-key.check.js';
import { privateKeyField } from './private-key.pem.js';
import { headerSafeProblem, scopeProblem, tenantProblem } from '../core/token-request-parameters.js';
import { oauth2DiscoverySchema } from './oauth2-discovery.options.js';
import { dpopSchema } from './dpop.options.js';
import { MTLS_CLIENT_AUTH_METHODS, mtlsSchema } from './oauth2-mtls.options.js';
import { oauth2GrantSchemas, oauth2GrantProblems } from './oauth2-grants.options.js';

/** RFC 7230 token: what an `Authorization` scheme may look like. */
const AUTH_SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parameters the strategy sets itself; `extraParams` may not override them. */
export const OAUTH2_RESERVED_PARAMS = [
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'refresh_token',
  'scope',
  'audience',
  'resource',
] as const;

const stringOrList = () =>
  z.union([nonEmptyString(), z.array(nonEmptyString()).min(1, 'must not be an empty list')]);

/**
 * An OAuth2 client-credentials provider (RFC 6749 §4.4), with refresh tokens when the server issues them.
 *
 * @publicApi
 * @example
 * { type: 'oauth2', tokenUrl: 'https://auth.example.com/oauth/token',
 *   clientId: process.env.CLIENT_ID, clientSecret: process.env.CLIENT_SECRET, scope: ['read', 'write'] }
 * @example
 * { type: 'oauth2', tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'svc',
 *   clientAuth: 'private_key_jwt', privateKey: process.env.CLIENT_KEY_PEM, signingAlgorithm: 'ES256', keyId: 'k1' }
 */
export const oauth2ProviderSchema = providerOptionsSchema
  .extend({
    type: z.literal('oauth2'),
    /**
     * The token endpoint. `https`, unless loopback or `allowInsecureHttp: true` (always `https` with
     * `mtls`). May hold a
     * `{tenant}` placeholder, filled from `tenant` or per call (`getToken(name, { tenant })`).
     */
    tokenUrl: z.url({ error: 'must be an absolute URL' }).optional(),
    /**
     * Instead of `tokenUrl`: the issuer whose metadata (RFC 8414 / OpenID Connect Discovery) names
     * the token endpoint, the auth methods and DPoP algorithms it supports, and its mTLS aliases.
     */
    issuer: z.url({ error: 'must be an absolute URL' }).optional(),
    /** Metadata caching and start-up behaviour for `issuer`. */
    discovery: oauth2DiscoverySchema.optional(),
    /** Sender-constrained tokens (RFC 9449 DPoP): `true`, or `{ privateKey, algorithm }`. */
    dpop: dpopSchema.optional(),
    /** Client certificate (RFC 8705): mTLS client authentication and certificate-bound tokens. */
    mtls: mtlsSchema.optional(),
    ...oauth2GrantSchemas,
    /** Fills `{tenant}` in `tokenUrl` when a call names none. */
    tenant: nonEmptyString().optional(),
    clientId: nonEmptyString(),
    /** Required for `client_secret_basic` and `client_secret_post`. */
    clientSecret: nonEmptyString().optional(),
    /** Default `client_secret_basic`. */
    clientAuth: z
      .enum(
        [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
          'client_secret_jwt',
          'tls_client_auth',
          'self_signed_tls_client_auth',
        ],
        {
          error:
            'must be one of client_secret_basic, client_secret_post, private_key_jwt, client_secret_jwt, ' +
            'tls_client_auth, self_signed_tls_client_auth',
        },
      )
      .optional(),
    /** For `private_key_jwt`: PEM (PKCS#8, `-----BEGIN PRIVATE KEY-----`) or private JWK. */
    privateKey: privateKeyField().optional(),
    /**
     * For `private_key_jwt`: RS256 (default), ES256 or EdDSA. For `client_secret_jwt`: HS256
     * (default), HS384 or HS512, keyed with `clientSecret`.
     */
    signingAlgorithm: z
      .enum([...CLIENT_ASSERTION_ALGORITHMS, ...CLIENT_SECRET_JWT_ALGORITHMS], {
        error:
          'must be one of RS256, ES256, EdDSA (private_key_jwt), HS256, HS384, HS512 (client_secret_jwt)',
      })
      .optional(),
    /** For `private_key_jwt` and `client_secret_jwt`: the `kid` header of the assertion. */
    keyId: nonEmptyString().optional(),
    /** Space-separated string or list; sent space-joined. */
    scope: stringOrList().optional(),
    /** `audience` parameter (Auth0 and others). */
    audience: nonEmptyString().optional(),
    /** RFC 8707 resource indicator(s). */
    resource: stringOrList().optional(),
    /** More form parameters for the client-credentials request. */
    extraParams: z.record(z.string(), z.string({ error: 'values must be strings' })).optional(),
    /** Use a `refresh_token` the server returns instead of a new client-credentials grant. Default true. */
    useRefreshToken: z.boolean().optional(),
    /** Token request timeout, body included. Default 10 000. */
    timeoutMs: z.number().int().positive().optional(),
    /** Largest response body read. Default 65 536. */
    maxResponseBytes: z.number().int().positive().optional(),
    /** Lifetime assumed when the server sends no `expires_in` and the token is no JWT. Default 3600. */
    defaultExpiresInSeconds: z.number().positive().optional(),
    /**
     * `token_type` values accepted besides `Bearer` (always accepted, in any case), e.g. `['MAC']`.
     * The token is sent with this scheme. Default none: any other type is a `TokenResponseError`
     * (RFC 6749 §7.1: a client must not use a token type it does not understand).
     */
    allowedTokenTypes: z
      .array(z.string().regex(AUTH_SCHEME, 'must be an HTTP authorization scheme name'))
      .optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.tokenUrl === undefined) === (value.issuer === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenUrl'],
        message: 'exactly one of "tokenUrl" and "issuer" is required',
      });
    }
    for (const field of ['tokenUrl', 'issuer'] as const) {
      const url = value[field];
      const problem = url === undefined ? undefined : tokenUrlProblem(url, value.allowInsecureHttp);
      if (problem) ctx.addIssue({ code: 'custom', path: [field], message: problem });
    }
    // Requests with a client certificate go over `node:https`: plain http could only fail at each call.
    if (value.mtls !== undefined && value.tokenUrl !== undefined && !/^https:/i.test(value.tokenUrl)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenUrl'],
        message: 'must use https with "mtls": the client certificate is presented over TLS',
      });
    }
    // Refused per call too: the issuer's metadata names one endpoint, a tenant would change nothing.
    if (value.tenant !== undefined && value.issuer !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['tenant'],
        message: 'needs a "tokenUrl" with a {tenant} placeholder, not "issuer"',
      });
    }
    if (value.discovery !== undefined && value.issuer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['discovery'], message: 'needs "issuer"' });
    }
    for (const [path, message] of oauth2GrantProblems(value)) ctx.addIssue({ code: 'custom', path, message });
    // The same rules as per-call values: a tenant is one path segment, nothing can split a line.
    const valueChecks = [
      ['tenant', tenantProblem],
      ['scope', scopeProblem],
      ['audience', headerSafeProblem],
      ['resource', headerSafeProblem],
    ] as const;
    for (const [field, problemOf] of valueChecks) {
      const fieldProblem = value[field] === undefined ? undefined : problemOf(value[field]);
      if (fieldProblem) ctx.addIssue({ code: 'custom', path: [field], message: fieldProblem });
    }

    const clientAuth = value.clientAuth ?? 'client_secret_basic';
    const hmac = (CLIENT_SECRET_JWT_ALGORITHMS as readonly string[]).includes(value.signingAlgorithm ?? '');
    if (clientAuth === 'client_secret_jwt' && value.signingAlgorithm !== undefined && !hmac) {
      ctx.addIssue({
        code: 'custom',
        path: ['signingAlgorithm'],
        message: 'must be HS256, HS384 or HS512 for client_secret_jwt',
      });
    } else if (clientAuth !== 'client_secret_jwt' && hmac) {
      ctx.addIssue({
        code: 'custom',
        path: ['signingAlgorithm'],
        message: `${String(value.signingAlgorithm)} signs client_secret_jwt assertions only (clientAuth: 'client_secret_jwt')`,
      });
    }
    if (clientAuth === 'private_key_jwt') {
      if (!value.privateKey) {
        ctx.addIssue({ code: 'custom', path: ['privateKey'], message: 'is required for private_key_jwt' });
      } else {
        const keyProblem = privateKeyProblem(value.privateKey, value.signingAlgorithm ?? 'RS256');
        if (keyProblem) ctx.addIssue({ code: 'custom', path: ['privateKey'], message: keyProblem });
      }
    } else if ((MTLS_CLIENT_AUTH_METHODS as readonly string[]).includes(clientAuth)) {
      if (!value.mtls)
        ctx.addIssue({ code: 'custom', path: ['mtls'], message: `is required for ${clientAuth}` });
    } else if (!value.clientSecret) {
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: `is required for ${clientAuth}` });
    }

    for (const name of Object.keys(value.extraParams ?? {})) {
      if ((OAUTH2_RESERVED_PARAMS as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['extraParams', name],
          message: 'is set by the strategy and cannot be overridden',
        });
      }
    }
  });

/** An `oauth2` provider: a token endpoint (or an `issuer` to discover it), client credentials and the optional grants, DPoP and mTLS. @publicApi */
export type OAuth2ProviderConfig = z.input<typeof oauth2ProviderSchema>;

/** An `oauth2` provider as its schema parsed it (defaults applied). */
export type ParsedOAuth2Config = z.output<typeof oauth2ProviderSchema>;
