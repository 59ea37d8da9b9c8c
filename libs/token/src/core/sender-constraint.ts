import type { Agent } from 'node:https';

/** An undici `Dispatcher` (`RequestInit.dispatcher` of Node's `fetch`), kept opaque in the public types. */
export interface FetchDispatcher {
  destroy(): Promise<void>;
}

/** What the HTTP integration needs of a DPoP key (RFC 9449): a proof per request, the nonces seen. */
export interface DpopProofs {
  /** A proof for one request; `accessToken` adds `ath`. */
  proof(method: string, url: URL, accessToken?: string): Promise<string>;
  readonly nonces: {
    /** Keeps a nonce the origin sent; true when it was well formed. */
    set(origin: string, nonce: string | null | undefined): boolean;
  };
}

/** How a provider's tokens are bound to this client (RFC 9449 DPoP); `D`: the strategy's DPoP signer. */
export interface SenderConstraint<D extends DpopProofs = DpopProofs> {
  readonly dpop?: D;
  /** RFC 8705 §3: the client certificate's agent, for requests carrying certificate-bound tokens. */
  readonly mtlsAgent?: Agent;
  /** The same certificate for `fetch`: an undici `Dispatcher`, made on first use. */
  readonly mtlsDispatcher?: () => Promise<FetchDispatcher>;
}
