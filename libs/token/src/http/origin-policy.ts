import type { ProviderOriginRules } from '../core/token-source.js';
import { isLoopbackHostname } from '../core/token-endpoint-url.js';

/**
 * Whether a provider's token may go to a URL: `allowed`, or why not. `origin` is `scheme://host:port`
 * (or `'unknown'`), the only part of the URL safe to log; paths and queries may carry secrets.
 */
export type OriginVerdict =
  | { readonly allowed: true; readonly origin: string }
  | { readonly allowed: false; readonly origin: string; readonly reason: string };

/** `baseUrls` reduced to their origins, once per provider options object. */
const allowedOriginsCache = new WeakMap<Readonly<ProviderOriginRules>, ReadonlySet<string> | null>();

function allowedOrigins(options: Readonly<ProviderOriginRules>): ReadonlySet<string> | null {
  let origins = allowedOriginsCache.get(options);
  if (origins === undefined) {
    const baseUrls = options.baseUrls ?? [];
    origins = baseUrls.length === 0 ? null : new Set(baseUrls.map((baseUrl) => new URL(baseUrl).origin));
    allowedOriginsCache.set(options, origins);
  }
  return origins;
}

/**
 * The rules of the HTTP integration, for one request:
 * - the URL must be absolute `http(s)`;
 * - with `baseUrls`, its origin (scheme, host and port; paths are ignored) must be one of theirs;
 * - plain `http` only to loopback (`localhost`, `127.0.0.0/8`, `::1`) unless `allowInsecureHttp: true`.
 *
 * @publicApi
 */
export function checkTokenOrigin(
  url: URL | undefined,
  options: Readonly<ProviderOriginRules>,
): OriginVerdict {
  if (url === undefined)
    return { allowed: false, origin: 'unknown', reason: 'the request URL is not absolute' };
  const origin = url.origin;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { allowed: false, origin, reason: 'only http(s) requests carry tokens' };
  }
  const origins = allowedOrigins(options);
  if (origins !== null && !origins.has(origin)) {
    return { allowed: false, origin, reason: 'the origin is not in "baseUrls"' };
  }
  if (url.protocol === 'http:' && options.allowInsecureHttp !== true && !isLoopbackHostname(url.hostname)) {
    return {
      allowed: false,
      origin,
      reason: 'plain http is allowed only to loopback hosts or with "allowInsecureHttp: true"',
    };
  }
  return { allowed: true, origin };
}

/** `new URL(text)`, or `undefined` when it is not an absolute URL. */
export function parseAbsoluteUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
