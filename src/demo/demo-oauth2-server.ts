import { randomBytes } from 'node:crypto';
import { sendJson, startLoopbackServer } from './loopback-server.js';

/**
 * A small OAuth2 token endpoint (client-credentials grant, `client_secret_basic`) for the demo,
 * plus an API that accepts only the unexpired tokens it issued. `setTokenEndpointDown(true)` makes
 * the token endpoint answer 503 while the API keeps working: an outage of the identity provider.
 */
export async function startDemoOAuth2Server(
  clientId: string,
  clientSecret: string,
  expiresInSeconds: number,
) {
  const issued = new Map<string, number>();
  const stats = { tokenRequests: 0, tokenRequestsRefused: 0, apiRequests: 0, apiRejected: 0 };
  let down = false;
  const expected = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  const server = await startLoopbackServer((req, body, res) => {
    if (req.method === 'POST' && req.url === '/oauth/token') {
      stats.tokenRequests++;
      if (down) {
        stats.tokenRequestsRefused++;
        return sendJson(res, 503, { error: 'temporarily_unavailable' });
      }
      const form = new URLSearchParams(body);
      if (req.headers.authorization !== expected) return sendJson(res, 401, { error: 'invalid_client' });
      if (form.get('grant_type') !== 'client_credentials')
        return sendJson(res, 400, { error: 'unsupported_grant_type' });
      const token = randomBytes(24).toString('base64url');
      issued.set(token, Date.now() + expiresInSeconds * 1000);
      return sendJson(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: expiresInSeconds,
        scope: form.get('scope') ?? '',
      });
    }
    if (req.url === '/v1/balance') {
      stats.apiRequests++;
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      const expiresAt = issued.get(token);
      if (expiresAt === undefined || expiresAt <= Date.now()) {
        stats.apiRejected++;
        return sendJson(res, 401, { error: 'invalid_token' });
      }
      return sendJson(res, 200, { balance: 42 });
    }
    sendJson(res, 404, { error: 'not_found' });
  });
  return {
    ...server,
    stats,
    setTokenEndpointDown(value: boolean): void {
      down = value;
    },
  };
}
