import type Provider from 'oidc-provider';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback API protected by tokens of an oidc-provider issuer (looked up in the issuer's own
 * store, so a revoked token is refused at once). `/orders/<scope>` needs that scope. Refusals carry
 * RFC 6750 challenges, several in one header as real gateways send them.
 */

export interface ResourceRequest {
  path: string;
  authorization: string | undefined;
  status: number;
}

export interface ResourceServer {
  readonly origin: string;
  readonly seen: ResourceRequest[];
  /** A 401 whose `WWW-Authenticate` cannot be parsed, for every request while set. */
  malformedChallenge: boolean;
  close(): Promise<void>;
}

export async function startResourceServer(provider: Provider): Promise<ResourceServer> {
  const seen: ResourceRequest[] = [];
  const state = { malformedChallenge: false };
  const server = createServer((request, response) => {
    void handle(provider, request, response, state).then((status) =>
      seen.push({ path: request.url ?? '', authorization: request.headers.authorization, status }),
    );
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  provider: Provider,
  request: IncomingMessage,
  response: ServerResponse,
  state: { malformedChallenge: boolean },
): Promise<number> {
  const send = (status: number, challenge?: string) => {
    response.writeHead(status, {
      'content-type': 'application/json',
      ...(challenge ? { 'www-authenticate': challenge } : {}),
    });
    response.end(JSON.stringify({ status }));
    return status;
  };
  if (request.url === '/forbidden') return send(403, 'Bearer realm="orders"');
  const required = /^\/orders\/([\w:.-]+)$/.exec(request.url ?? '')?.[1];
  if (required === undefined) return send(404);
  const [scheme, token] = (request.headers.authorization ?? '').split(' ');
  if (scheme !== 'Bearer' || !token) return send(401, 'Bearer realm="orders"');
  if (state.malformedChallenge) return send(401, 'Bearer error="invalid_token');
  const found = await provider.ClientCredentials.find(token);
  if (!found || found.isExpired) {
    return send(
      401,
      'Basic realm="legacy", Bearer realm="orders", error="invalid_token", error_description="The access token expired, or was revoked"',
    );
  }
  if (!(found.scope ?? '').split(' ').includes(required)) {
    return send(403, `Bearer realm="orders", error="insufficient_scope", scope="${required}"`);
  }
  return send(200);
}
