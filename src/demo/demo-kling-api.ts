import { randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { sendJson, startLoopbackServer } from './loopback-server.js';

/** A Kling-like API: accepts a request only with a valid HS256 JWT whose `iss` is the access key. */
export async function startDemoKlingApi(accessKey: string, secretKey: string) {
  const secret = new TextEncoder().encode(secretKey);
  const stats = { requests: 0, accepted: 0, rejected: 0, distinctTokens: new Set<string>() };
  const server = await startLoopbackServer(async (req, _body, res) => {
    stats.requests++;
    const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    try {
      if (!token) throw new Error('no token');
      await jwtVerify(token, secret, { issuer: accessKey, algorithms: ['HS256'] });
    } catch {
      stats.rejected++;
      return sendJson(res, 401, { code: 1000, message: 'authentication failed' });
    }
    stats.accepted++;
    stats.distinctTokens.add(token);
    sendJson(res, 200, { code: 0, data: { task_id: randomUUID(), task_status: 'submitted' } });
  });
  return { ...server, stats };
}
