import { randomBytes } from 'node:crypto';
import { jwtVerify, type CryptoKey, type JWK, importJWK } from 'jose';
import { sendJson, startLoopbackServer, type LoopbackServer } from './oauth2-loopback-server.js';

/**
 * A token endpoint that authenticates clients by RFC 7523 `private_key_jwt` only, verifying each
 * assertion with `jose.jwtVerify` against the client's registered public key: signature and `alg`,
 * `iss` = `sub` = client id, `aud` = this endpoint's URL, `exp` no more than 60 s after `iat`, a `jti`
 * never seen before (replay), and `kid` when one is registered.
 */
export interface AssertionClient {
  clientId: string;
  publicKey: CryptoKey | JWK;
  algorithm: 'RS256' | 'ES256' | 'EdDSA';
  keyId?: string;
}

export interface AssertionEndpoint {
  readonly server: LoopbackServer;
  readonly tokenUrl: string;
  /** Why each rejected request was rejected. */
  readonly rejections: string[];
  close(): Promise<void>;
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export async function startAssertionEndpoint(clients: AssertionClient[]): Promise<AssertionEndpoint> {
  const seenJti = new Set<string>();
  const rejections: string[] = [];
  const server = await startLoopbackServer();
  const tokenUrl = server.tokenUrl;

  server.handle(async (req, res) => {
    const reject = (reason: string) => {
      rejections.push(reason);
      sendJson(res, 401, { error: 'invalid_client', error_description: reason });
    };
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return reject('not a form');
    if (req.form.get('grant_type') !== 'client_credentials') return reject('grant_type');
    if (req.form.get('client_assertion_type') !== ASSERTION_TYPE) return reject('client_assertion_type');
    if (req.form.has('client_secret') || req.headers.authorization)
      return reject('more than one client authentication');
    const assertion = req.form.get('client_assertion') ?? '';
    const client = clients.find((c) => c.clientId === req.form.get('client_id'));
    if (!client) return reject('unknown client_id');
    try {
      const key =
        'kty' in client.publicKey
          ? await importJWK(client.publicKey as JWK, client.algorithm)
          : client.publicKey;
      const { payload, protectedHeader } = await jwtVerify(assertion, key, {
        algorithms: [client.algorithm],
        issuer: client.clientId,
        subject: client.clientId,
        audience: tokenUrl,
        requiredClaims: ['exp', 'iat', 'jti'],
        maxTokenAge: '60s',
      });
      if (client.keyId !== undefined && protectedHeader.kid !== client.keyId) return reject('kid');
      if (payload.exp! - payload.iat! > 60) return reject('assertion lives longer than 60 s');
      if (seenJti.has(payload.jti!)) return reject('jti replayed');
      seenJti.add(payload.jti!);
    } catch (error) {
      return reject(`assertion rejected: ${(error as { code?: string }).code ?? 'unknown'}`);
    }
    sendJson(res, 200, {
      access_token: randomBytes(16).toString('hex'),
      token_type: 'Bearer',
      expires_in: 300,
    });
  });

  return { server, tokenUrl, rejections, close: () => server.close() };
}
