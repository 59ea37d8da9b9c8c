import type { AuthorizationServerMetadata } from './oauth2-discovery.js';
import type { TokenEndpointRawResponse } from './token-endpoint-request.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import type { DpopProofSigner } from './dpop-proof.js';

/**
 * After a token endpoint answer: keeps its `DPoP-Nonce`, and says whether it is the 400
 * `use_dpop_nonce` of RFC 9449 §8 that one more request, with that nonce in the proof, answers.
 */
export function tokenEndpointWantsNonce(
  signer: DpopProofSigner,
  url: string,
  response: TokenEndpointRawResponse,
): boolean {
  const kept = signer.nonces.set(new URL(url).origin, response.dpopNonce);
  if (!kept || response.status !== 400) return false;
  try {
    return (JSON.parse(response.body) as { error?: unknown }).error === 'use_dpop_nonce';
  } catch {
    return false;
  }
}

/** The issuer's `dpop_signing_alg_values_supported`, when it lists any, must hold the key's algorithm. */
export function checkDpopAlgorithm(
  signer: DpopProofSigner,
  metadata: AuthorizationServerMetadata | undefined,
): void {
  const supported = metadata?.dpop_signing_alg_values_supported;
  if (supported === undefined || supported.includes(signer.algorithm)) return;
  throw new InvalidTokenOptionsError(
    `oauth2 "dpop.algorithm" ${signer.algorithm} is not in the issuer's dpop_signing_alg_values_supported`,
    undefined,
    'dpop.algorithm',
  );
}
