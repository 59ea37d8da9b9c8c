import type Provider from 'oidc-provider';
import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify } from 'jose';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback API protected by tokens of an oidc-provider issuer (looked up in the issuer's own
 * store, so a revoked token is refused at once). `/orders/<scope>` needs that scope. Refusals carry
 * RFC 6750 challenges, several in one header as real gateways send them. An authorized request with
 * `?redirect=<status>&to=<url>` is answered with that redirect instead of 200.
 */

export interface ResourceRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The DPoP proof's claims, when one came and verified. */
  proof?: Record<string, unknown>;
  status: number;
}

export interface ResourceServer {
  readonly origin: string;
  readonly seen: ResourceRequest[];
  /** A 401 whose `WWW-Authenticate` cannot be parsed, for every request while set. */
  malformedChallenge: boolean;
  /** DPoP proofs must carry the server's current nonce (RFC 9449 §9). */
  requireDpopNonce: boolean;
  /** Every proof refused with use_dpop_nonce (and a new nonce): a client that retried again would loop. */
  alwaysNewNonce: boolean;
  /** Makes the server's nonce change, as servers rotate them. */
  rotateDpopNonce(): void;
  /** Between tests: forgets what it saw, every switch off, a new nonce. */
  reset(): void;
  close(): Promise<void>;
}

export async function startResourceServer(provider: Provider): Promise<ResourceServer> {
  const seen: ResourceRequest[] = [];
  const state: HandlerState = {
    malformedChallenge: false,
    requireDpopNonce: false,
    alwaysNewNonce: false,
    nonce: randomBytes(12).toString('base64url'),
    jtis: new Set(),
  };
  const server = createServer((request, response) => {
    const record: ResourceRequest = {
      method: request.method ?? '',
      path: request.url ?? '',
      authorization: request.headers.authorization,
      status: 0,
    };
    void handle(provider, request, response, state, record).then((status) => {
      record.status = status;
      seen.push(record);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    seen,
    get malformedChallenge() {
      return state.malformedChallenge;
    },
    set malformedChallenge(value: boolean) {
      state.malformedChallenge = value;
    },
    get requireDpopNonce() {
      return state.requireDpopNonce;
    },
    set requireDpopNonce(value: boolean) {
      state.requireDpopNonce = value;
    },
    get alwaysNewNonce() {
      return state.alwaysNewNonce;
    },
    set alwaysNewNonce(value: boolean) {
      state.alwaysNewNonce = value;
    },
    rotateDpopNonce: () => (state.nonce = randomBytes(12).toString('base64url')),
    reset: () => {
      seen.length = 0;
      Object.assign(state, { malformedChallenge: false, requireDpopNonce: false, alwaysNewNonce: false });
      state.nonce = randomBytes(12).toString('base64url');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface HandlerState {
  malformedChallenge: boolean;
  requireDpopNonce: boolean;
  alwaysNewNonce: boolean;
  nonce: string;
  jtis: Set<string>;
}

async function handle(
  provider: Provider,
  request: IncomingMessage,
  response: ServerResponse,
  state: HandlerState,
  record: ResourceRequest,
): Promise<number> {
  const send = (status: number, challenge?: string, location?: string) => {
    response.writeHead(status, {
      'content-type': 'application/json',
      ...(challenge ? { 'www-authenticate': challenge } : {}),
      ...(location ? { location } : {}),
      ...(state.requireDpopNonce ? { 'dpop-nonce': state.nonce } : {}),
    });
    response.end(JSON.stringify({ status }));
    return status;
  };
  if (request.url === '/forbidden') return send(403, 'Bearer realm="orders"');
  const { pathname: path, searchParams } = new URL(request.url ?? '/', 'http://localhost');
  const required = /^\/orders\/([\w:.-]+)$/.exec(path)?.[1];
  if (required === undefined) return send(404);
  const [scheme, token] = (request.headers.authorization ?? '').split(' ');
  if ((scheme !== 'Bearer' && scheme !== 'DPoP') || !token) return send(401, 'Bearer realm="orders"');
  if (state.malformedChallenge) return send(401, 'Bearer error="invalid_token');
  const found = await provider.ClientCredentials.find(token);
  // RFC 9449 §7.1: a DPoP-bound token needs the DPoP scheme and a proof by its key.
  if (found?.jkt !== undefined || scheme === 'DPoP') {
    const problem = await dpopProblem(request, token, found?.jkt, state, record);
    if (problem === 'use_dpop_nonce') {
      return send(
        401,
        'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
      );
    }
    if (problem !== undefined || scheme !== 'DPoP') {
      return send(
        401,
        `DPoP algs="ES256 EdDSA", error="invalid_token", error_description="${problem ?? 'DPoP scheme required'}"`,
      );
    }
  }
  if (!found || found.isExpired) {
    return send(
      401,
      'Basic realm="legacy", Bearer realm="orders", error="invalid_token", error_description="The access token expired, or was revoked"',
    );
  }
  if (!(found.scope ?? '').split(' ').includes(required)) {
    return send(403, `Bearer realm="orders", error="insufficient_scope", scope="${required}"`);
  }
  const redirect = searchParams.get('redirect');
  if (redirect !== null) return send(Number(redirect), undefined, searchParams.get('to') ?? '/');
  return send(200);
}

/** RFC 9449 §4.3 checks of the request's proof, with jose; the problem, or undefined. */
async function dpopProblem(
  request: IncomingMessage,
  token: string,
  jkt: string | undefined,
  state: HandlerState,
  record: ResourceRequest,
): Promise<string | undefined> {
  const proof = request.headers.dpop;
  if (typeof proof !== 'string') return 'no DPoP proof';
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA'] }));
  } catch {
    return 'proof does not verify';
  }
  record.proof = payload;
  const header = decodeProtectedHeader(proof);
  const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
  if (payload.htm !== request.method) return 'htm mismatch';
  if (payload.htu !== `${url.origin}${url.pathname}`) return 'htu mismatch';
  if (payload.ath !== createHash('sha256').update(token).digest('base64url')) return 'ath mismatch';
  if (typeof payload.iat !== 'number' || Math.abs(payload.iat - Date.now() / 1000) > 60)
    return 'iat out of range';
  if (typeof payload.jti !== 'string' || state.jtis.has(payload.jti)) return 'jti replayed';
  state.jtis.add(payload.jti);
  if (jkt === undefined || (await calculateJwkThumbprint(header.jwk!)) !== jkt)
    return 'key does not match the token';
  if (state.alwaysNewNonce) {
    state.nonce = randomBytes(12).toString('base64url');
    return 'use_dpop_nonce';
  }
  if (state.requireDpopNonce && payload.nonce !== state.nonce) return 'use_dpop_nonce';
  return undefined;
}
