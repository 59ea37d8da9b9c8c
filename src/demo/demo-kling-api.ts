import { randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { sendJson, startLoopbackServer } from './loopback-server.js';

/**
 * A Kling-like API: accepts a request only with a valid HS256 JWT whose `iss` is the access key.
 * `revokeLatestToken()` makes it refuse the last token it accepted, as an API does after a key
 * rotation or a revocation: the next request with it gets a 401 although the token has not expired.
 */
export async function startDemoKlingApi(accessKey: string, secretKey: string) {
  const secret = new TextEncoder().encode(secretKey);
  const stats = {
    requests: 0,
    accepted: 0,
    rejected: 0,
    revokedRejected: 0,
    distinctTokens: new Set<string>(),
  };
  const revoked = new Set<string>();
  let latest: string | undefined;
  const server = await startLoopbackServer(async (req, _body, res) => {
    stats.requests++;
    const token = req.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    try {
      if (!token) throw new Error('no token');
      if (revoked.has(token)) {
        stats.revokedRejected++;
        throw new Error('revoked');
      }
      await jwtVerify(token, secret, { issuer: accessKey, algorithms: ['HS256'] });
    } catch {
      stats.rejected++;
      return sendJson(res, 401, { code: 1000, message: 'authentication failed' });
    }
    stats.accepted++;
    stats.distinctTokens.add(token);
    latest = token;
    sendJson(res, 200, { code: 0, data: { task_id: randomUUID(), task_status: 'submitted' } });
  });
  return {
    ...server,
    stats,
    /** Refuses the last accepted token from now on; false when none was seen yet. */
    revokeLatestToken(): boolean {
      if (latest === undefined) return false;
      revoked.add(latest);
      return true;
    },
  };
}
