import type { Clock } from '../../core/clock.js';
import type { DpopProofSigner } from './dpop-proof.js';
import { tokenEndpointWantsNonce } from './dpop-token-request.js';
import type { TokenInfo } from '../../core/token-info.js';
import type { OAuth2ClientAuthenticator } from './oauth2-client-auth.js';
import type { GrantParameters } from './oauth2-jwt-bearer.js';
import type { MtlsClient } from './oauth2-mtls.js';
import { createRedactor } from './token-endpoint-redaction.js';
import { postTokenRequest } from './token-endpoint-request.js';
import { parseTokenEndpointResponse } from './token-endpoint-response.js';
import { describeEndpoint } from '../../core/token-endpoint-url.js';
import { checkEndpointHold, holdEndpoint } from './token-endpoint-holds.js';
import { TokenEndpointRetryLaterError } from '../../core/token.errors.js';

/** Everything one token request needs besides its grant parameters. */
export interface OAuth2TokenRequestPlan {
  url: string;
  authenticator: OAuth2ClientAuthenticator;
  dpop?: DpopProofSigner;
  mtls?: MtlsClient;
  clock: Clock;
  timeoutMs: number;
  maxResponseBytes: number;
  defaultExpiresInSeconds: number;
  allowedTokenTypes?: string[];
}

/**
 * Sends one token request and reads its answer. The grant parameters and the client authentication
 * are built anew per attempt: a client assertion's or a JWT-bearer assertion's `jti` may be used
 * once, and RFC 9449 §8's 400 `use_dpop_nonce` is answered once with a second attempt. Nothing is
 * sent while the URL's `Retry-After` holds (see `token-endpoint-holds.ts`), whatever the grant.
 */
export async function requestOAuth2Token(
  plan: OAuth2TokenRequestPlan,
  grant: () => Promise<GrantParameters>,
): Promise<TokenInfo> {
  const { url, authenticator, dpop, mtls, clock } = plan;
  checkEndpointHold(url, clock);
  const send = async () => {
    const { params, secrets } = await grant();
    const auth = await authenticator.authenticate();
    const form = new URLSearchParams(params);
    for (const [name, value] of Object.entries(auth.params)) form.set(name, value);
    const headers = dpop ? { ...auth.headers, dpop: await dpop.proof('POST', new URL(url)) } : auth.headers;
    const redact = createRedactor([...auth.secrets, ...secrets]);
    const request = {
      url,
      form,
      headers,
      timeoutMs: plan.timeoutMs,
      maxResponseBytes: plan.maxResponseBytes,
    };
    const response = await (mtls ? mtls.post(request) : postTokenRequest(request));
    return { response, redact };
  };
  let { response, redact } = await send();
  if (dpop && tokenEndpointWantsNonce(dpop, url, response)) {
    ({ response, redact } = await send());
    tokenEndpointWantsNonce(dpop, url, response);
  }
  const receivedAt = clock.now();
  try {
    return parseTokenEndpointResponse(response, {
      receivedAt,
      defaultExpiresInSeconds: plan.defaultExpiresInSeconds,
      redact,
      allowedTokenTypes: dpop ? [...(plan.allowedTokenTypes ?? []), 'DPoP'] : plan.allowedTokenTypes,
      endpoint: describeEndpoint(url),
    });
  } catch (error) {
    if (error instanceof TokenEndpointRetryLaterError)
      holdEndpoint(url, clock, error.status, error.retryAfterMs, receivedAt);
    throw error;
  }
}
