import type { SenderConstraint } from '../core/sender-constraint.js';
import type { TokenInfo } from '../core/token-info.js';
import { tokenChallengeOf } from './www-authenticate.js';

/** Signs the DPoP proofs of one request that carries a `DPoP` token, hop by hop. */
export interface DpopRequestSigner {
  /** The `DPoP` header for a hop. */
  proof(method: string, url: URL): Promise<string>;
  /**
   * Keeps the `DPoP-Nonce` an answer carried; true when the answer is a 401 with
   * `DPoP error="use_dpop_nonce"` and a nonce (RFC 9449 §9): worth one retry with a new proof.
   */
  askedForNonce(url: URL, status: number, nonce: string | null, wwwAuthenticate: string | null): boolean;
}

/** For a token of type `DPoP` and a provider that has a DPoP key; else `undefined`. */
export function dpopRequestSigner(
  constraint: SenderConstraint | undefined,
  info: TokenInfo,
): DpopRequestSigner | undefined {
  const signer = constraint?.dpop;
  if (signer === undefined || info.tokenType !== 'DPoP') return undefined;
  return {
    proof: (method, url) => signer.proof(method, url, info.token),
    askedForNonce: (url, status, nonce, wwwAuthenticate) => {
      const kept = signer.nonces.set(url.origin, nonce);
      return (
        kept && status === 401 && tokenChallengeOf(wwwAuthenticate, 'DPoP')?.params.error === 'use_dpop_nonce'
      );
    },
  };
}
