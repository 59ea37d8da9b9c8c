import { createHash } from 'node:crypto';

/** The parts of an `oauth2` provider that decide which token it gets; none of them is a secret. */
export interface OAuth2CacheKeyParts {
  tokenUrl: string;
  clientId: string;
  /** `'read write'` or `['read', 'write']`; order and repeats do not matter. */
  scope?: string | readonly string[];
  audience?: string;
  resource?: string | readonly string[];
  extraParams?: Readonly<Record<string, string>>;
}

/**
 * Scope values, split on whitespace, without repeats, sorted: the same set of scopes in any order
 * is the same grant.
 */
export function normalizeScopes(scope: string | readonly string[] | undefined): string[] {
  if (scope === undefined) return [];
  const values = (typeof scope === 'string' ? [scope] : scope).flatMap((s) => s.split(/\s+/)).filter(Boolean);
  return [...new Set(values)].sort();
}

/**
 * The cache key of an `oauth2` token: `oauth2:<origin + path of tokenUrl>:<clientId>:<digest>`, the
 * digest (sha256, 16 base64url characters) covering the full URL, the sorted scopes, audience,
 * resources and extra parameters. Readable enough to tell providers apart in stats, and never holds
 * the client secret nor a query string. Pure; use it to key per-call scope variants the same way.
 *
 * @publicApi
 * @example
 * oauth2CacheKey({ tokenUrl: 'https://auth.example.com/token', clientId: 'svc', scope: 'b a' })
 * // 'oauth2:https://auth.example.com/token:svc:…' — the same as for scope ['a', 'b']
 */
export function oauth2CacheKey(parts: OAuth2CacheKeyParts): string {
  const url = safeUrl(parts.tokenUrl);
  const resources = parts.resource === undefined ? [] : [...new Set([parts.resource].flat())].sort();
  const extraParams = Object.entries(parts.extraParams ?? {}).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const digest = createHash('sha256')
    .update(
      JSON.stringify([
        url?.href ?? parts.tokenUrl,
        parts.clientId,
        normalizeScopes(parts.scope),
        parts.audience ?? null,
        resources,
        extraParams,
      ]),
    )
    .digest('base64url')
    .slice(0, 16);
  const endpoint = url ? `${url.origin}${url.pathname}` : 'invalid-url';
  return `oauth2:${endpoint}:${parts.clientId}:${digest}`;
}

function safeUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/**
 * An `OAuth2Strategy`'s key: {@link oauth2CacheKey} of its config at `endpoint`, plus what binds or
 * changes its tokens (`parts`: grant, subject, DPoP key) and, for certificate-bound tokens
 * (RFC 8705 §3), a digest of the certificate.
 */
export function oauth2StrategyCacheKey(
  config: Omit<OAuth2CacheKeyParts, 'tokenUrl'> & { mtls?: { certificate: string } },
  endpoint: string,
  parts: Record<string, string>,
): string {
  return oauth2CacheKey({
    ...config,
    tokenUrl: endpoint,
    extraParams: {
      ...config.extraParams,
      ...parts,
      ...(config.mtls
        ? { ' mtls': createHash('sha256').update(config.mtls.certificate).digest('base64url') }
        : {}),
    },
  });
}

/**
 * The part of the cache key a per-call subject token adds: a digest, never the token. Tokens for
 * two subjects never share a cache entry.
 */
export function subjectDigest(subjectToken: string | undefined): string | undefined {
  return subjectToken === undefined
    ? undefined
    : createHash('sha256').update(subjectToken).digest('base64url').slice(0, 22);
}
