import {
  BODY_HEADER,
  nextHopMethod,
  nextHopUrl,
  ORIGIN_BOUND_HEADERS,
  REDIRECT_STATUSES,
} from './redirect-rules.js';
import type { DpopRequestSigner } from './sender-constraints.js';

/**
 * The redirect-following loop of a request that carries a token, shared by the axios adapter and
 * the fetch wrapper: they only say how to send one hop and how to read its answer.
 */

/** One hop of a request, as decided by {@link followRedirects}. */
export interface RedirectHop {
  /** The request as the caller made it: sent as it is (no redirect has changed it yet). */
  readonly first: boolean;
  readonly url: URL;
  /** Upper-case. */
  readonly method: string;
  /** Whether the body goes on (307/308, or a method that stays): else the hop has none. */
  readonly keepsBody: boolean;
  /** Whether the token (and the client certificate) goes with this hop. */
  readonly carries: boolean;
  /** Whether this hop goes to another origin than the previous one. */
  readonly crossOrigin: boolean;
  /** The headers of the previous hop that this one must not have, from their `names`. */
  dropped(names: Iterable<string>): string[];
}

/** What a hop's answer says, or `undefined` when there is none (a network error). */
export interface HopAnswer {
  readonly status: number;
  /** A header's value; `undefined` when absent. */
  header(name: string): string | undefined;
}

/** How one transport (axios, fetch) sends a hop; `R` is its outcome (a response, or an error). */
export interface HopTransport<R> {
  /** Sends `hop` with the `DPoP` header `proof` (none when `undefined`); `retry`: the nonce retry. */
  send(hop: RedirectHop, proof: string | undefined, retry: boolean): Promise<R>;
  answerOf(outcome: R): HopAnswer | undefined;
  /** Whether the last hop sent had a body that can be read once (it cannot be sent again). */
  sentStream(): boolean;
  /** Releases the body of an answer the caller will not see. */
  discard(outcome: R): Promise<void> | void;
  /** The error for a redirect past `maxRedirects`. */
  tooManyRedirects(): Error;
}

export interface RedirectPolicy {
  readonly url: URL;
  readonly method: string;
  /** `false`: the first answer is final, a redirect included. */
  readonly follows: boolean;
  readonly maxRedirects: number;
  /** The origin rules for a hop that still carries the token (may throw, with `strictOrigin`). */
  mayCarryTo(next: URL): boolean;
  /** Signs the hops that carry a `DPoP` token. */
  readonly dpop?: DpopRequestSigner;
}

/**
 * Sends the first hop and follows its redirects, the origin of each hop checked like the first: a
 * hop outside the provider's origins goes without the token (and everything after it too). A
 * redirect whose body was a stream goes to the caller unfollowed. `carried` says whether the final
 * outcome answered a hop that carried the token.
 */
export async function followRedirects<R>(
  policy: RedirectPolicy,
  transport: HopTransport<R>,
): Promise<{ outcome: R; carried: boolean }> {
  let hop = firstHop(policy.url, policy.method.toUpperCase());
  let outcome = await sendSigned(hop, policy.dpop, transport);
  if (!policy.follows) return { outcome, carried: true };
  for (let redirects = 0; ; redirects++) {
    const answer = transport.answerOf(outcome);
    const location =
      answer !== undefined && REDIRECT_STATUSES.has(answer.status) ? answer.header('location') : undefined;
    const next = location === undefined ? undefined : nextHopUrl(location, hop.url);
    if (answer === undefined || next === undefined) return { outcome, carried: hop.carries };
    const { method, keepsBody } = nextHopMethod(answer.status, hop.method);
    // A streamed body is gone after the first hop: its redirect goes to the caller unfollowed.
    if (keepsBody && transport.sentStream()) return { outcome, carried: hop.carries };
    // Released before the limit check too: the caller never sees this redirect's body.
    await transport.discard(outcome);
    if (redirects >= policy.maxRedirects) throw transport.tooManyRedirects();
    const crossOrigin = next.origin !== hop.url.origin;
    const dropsToken = hop.carries && !policy.mayCarryTo(next);
    const carries = hop.carries && !dropsToken;
    hop = {
      first: false,
      url: next,
      method,
      keepsBody,
      carries,
      crossOrigin,
      dropped: (names) => [
        ...(keepsBody ? [] : [...names].filter((name) => BODY_HEADER.test(name))),
        ...(crossOrigin ? ORIGIN_BOUND_HEADERS : []),
        ...(dropsToken ? ['authorization'] : []),
      ],
    };
    outcome = await sendSigned(hop, carries ? policy.dpop : undefined, transport);
  }
}

function firstHop(url: URL, method: string): RedirectHop {
  return { first: true, url, method, keepsBody: true, carries: true, crossOrigin: false, dropped: () => [] };
}

/**
 * Sends one hop. With DPoP, a new proof for this hop's method and URL (RFC 9449 §4.2); a 401
 * `use_dpop_nonce` is sent once more with the nonce the API gave (§9), unless the body was a stream.
 */
async function sendSigned<R>(
  hop: RedirectHop,
  dpop: DpopRequestSigner | undefined,
  transport: HopTransport<R>,
): Promise<R> {
  if (dpop === undefined) return transport.send(hop, undefined, false);
  for (let attempt = 0; ; attempt++) {
    const outcome = await transport.send(hop, await dpop.proof(hop.method, hop.url), attempt > 0);
    const answer = transport.answerOf(outcome);
    if (answer === undefined) return outcome;
    const retry = dpop.askedForNonce(
      hop.url,
      answer.status,
      answer.header('dpop-nonce') ?? null,
      answer.header('www-authenticate') ?? null,
    );
    if (!retry || attempt > 0 || transport.sentStream()) return outcome;
    await transport.discard(outcome);
  }
}
