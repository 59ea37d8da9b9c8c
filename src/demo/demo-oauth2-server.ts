import { randomBytes } from 'node:crypto';
import { sendJson, startLoopbackServer } from './loopback-server.js';

/**
 * A small OAuth2 token endpoint (client-credentials grant, `client_secret_basic`) for the demo,
 * plus an API that accepts only the tokens it issued.
 */
export async function startDemoOAuth2Server(clientId: string, clientSecret: string) {
  const issued = new Set<string>();
  const stats = { tokenRequests: 0, apiRequests: 0, apiRejected: 0 };
  const expected = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  const server = await startLoopbackServer((req, body, res) => {
    if (req.method === 'POST' && req.url === '/oauth/token') {
      stats.tokenRequests++;
      const form = new URLSearchParams(body);
      if (req.headers.authorization !== expected) return sendJson(res, 401, { error: 'invalid_client' });
      if (form.get('grant_type') !== 'client_credentials')
        return sendJson(res, 400, { error: 'unsupported_grant_type' });
      const token = randomBytes(24).toString('base64url');
      issued.add(token);
      return sendJson(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 3600,
        scope: form.get('scope') ?? '',
      });
    }
    if (req.url === '/v1/balance') {
      stats.apiRequests++;
      const token = req.headers.authorization?.replace(/^Bearer /, '') ?? '';
      if (!issued.has(token)) {
        stats.apiRejected++;
        return sendJson(res, 401, { error: 'invalid_token' });
      }
      return sendJson(res, 200, { balance: 42 });
    }
    sendJson(res, 404, { error: 'not_found' });
  });
  return { ...server, stats };
}
