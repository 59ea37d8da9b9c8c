import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';

/** PEM material made for one test run: a CA, a server certificate for 127.0.0.1, client certificates. */
export interface TestCertificates {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string; subject: string };
  /** Signed by the same CA, another subject: a certificate the server did not register. */
  stranger: { cert: string; key: string };
  /** Self-signed, with the client's subject: not from the CA the server trusts. */
  rogue: { cert: string; key: string };
}

/**
 * Makes P-256 certificates with the `openssl` CLI (offline, in a temporary folder removed at once).
 */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'ntm-certs-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  try {
    const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    run(
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-subj',
      '/CN=ntm-test-ca',
      '-days',
      '2',
    );
    const issue = (name: string, subject: string, extensions: string) => {
      writeFileSync(join(dir, `${name}.ext`), extensions);
      run('req', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      run(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
      );
      return { cert: read(`${name}.crt`), key: read(`${name}.key`) };
    };
    const server = issue(
      'server',
      '/CN=127.0.0.1',
      'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
    );
    const client = issue('client', '/CN=shop-client', 'extendedKeyUsage=clientAuth\n');
    const stranger = issue('stranger', '/CN=someone-else', 'extendedKeyUsage=clientAuth\n');
    run(
      'req',
      '-x509',
      ...ecKey,
      '-keyout',
      'rogue.key',
      '-out',
      'rogue.crt',
      '-subj',
      '/CN=shop-client',
      '-days',
      '2',
    );
    const rogue = { cert: read('rogue.crt'), key: read('rogue.key') };
    return { ca: read('ca.crt'), server, client: { ...client, subject: 'CN=shop-client' }, stranger, rogue };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An https server with these certificates that requires a client certificate from their CA (RFC
 * 8705 mutual TLS); `onRequest` gets each request with its whole body. Not listening yet.
 */
export function createMtlsServer(
  certs: TestCertificates,
  onRequest: (request: IncomingMessage, body: string, response: ServerResponse) => void,
): Server {
  const options = { cert: certs.server.cert, key: certs.server.key, ca: certs.ca };
  return createServer({ ...options, requestCert: true, rejectUnauthorized: true }, (request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => onRequest(request, body, response));
  });
}
