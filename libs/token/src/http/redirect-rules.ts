/**
 * How a client follows a redirect, shared by the axios adapter and the fetch wrapper, which follow
 * redirects themselves for requests that carry a token (so that each hop's origin is checked).
 */

/** The statuses followed when they carry a `Location` (RFC 9110 §15.4). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers that describe a body: dropped with it. */
export const BODY_HEADER = /^content-/i;

/**
 * Credentials and routing that belong to the origin they were sent to, dropped when a hop changes
 * origin (`Authorization` is the origin rules' business). follow-redirects and fetch do the same.
 */
export const ORIGIN_BOUND_HEADERS: readonly string[] = ['cookie', 'proxy-authorization', 'host'];

/**
 * The next hop's method, as browsers, fetch and follow-redirects do it (RFC 9110 §15.4.2–4): a POST
 * answered 301/302 and anything but GET/HEAD answered 303 become a body-less GET; 307/308 keep both.
 */
export function nextHopMethod(status: number, method: string): { method: string; keepsBody: boolean } {
  const upper = method.toUpperCase();
  const toGet =
    ((status === 301 || status === 302) && upper === 'POST') ||
    (status === 303 && upper !== 'GET' && upper !== 'HEAD');
  return toGet ? { method: 'GET', keepsBody: false } : { method: upper, keepsBody: true };
}

/** The next hop's URL, or `undefined` when `location` is not a URL (the response is then final). */
export function nextHopUrl(location: string, current: URL): URL | undefined {
  try {
    return new URL(location, current);
  } catch {
    return undefined;
  }
}
