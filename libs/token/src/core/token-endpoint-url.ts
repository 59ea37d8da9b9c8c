import { InvalidTokenOptionsError } from './token.errors.js';

/**
 * Where a token endpoint may live. Credentials travel in the request, so plain `http` is allowed
 * only to loopback (the request never leaves the machine) or after an explicit opt-in.
 */

/** True for `localhost`, `127.0.0.0/8` and `::1`, as the WHATWG URL parser normalises them. */
export function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  // The URL parser has already turned `127.1`, `0x7f.0.0.1` and friends into dotted-quad form.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why `tokenUrl` is not acceptable, or `undefined` when it is. The reason never repeats the URL,
 * which may carry a secret in its query string.
 */
export function tokenUrlProblem(tokenUrl: string, allowInsecureHttp = false): string | undefined {
  let url: URL;
  try {
    url = new URL(tokenUrl);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http(s) URL';
  if (url.username || url.password) return 'must not contain credentials (use clientId/clientSecret)';
  if (url.protocol === 'http:' && !allowInsecureHttp && !isLoopbackHostname(url.hostname)) {
    return 'must use https (plain http is allowed only for loopback hosts or with "allowInsecureHttp: true")';
  }
  return undefined;
}

/** `https://host/path`, without query or fragment: safe to put in an error message. */
export function describeEndpoint(tokenUrl: string): string {
  try {
    const url = new URL(tokenUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'the token endpoint';
  }
}

/** `{tenant}` in the URL (as written or as the URL parser encodes it) replaced by the tenant. */
export function fillTenant(tokenUrl: string, tenant: string | undefined): string | undefined {
  const placeholder = /\{tenant\}|%7Btenant%7D/gi;
  if (!placeholder.test(tokenUrl)) {
    if (tenant !== undefined) {
      throw new InvalidTokenOptionsError(
        'oauth2 "tenant" needs a {tenant} placeholder in "tokenUrl"',
        undefined,
        'tenant',
      );
    }
    return tokenUrl;
  }
  return tenant === undefined ? undefined : tokenUrl.replace(placeholder, encodeURIComponent(tenant));
}
