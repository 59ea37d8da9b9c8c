import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  createMtlsServer,
  makeTestCertificates,
  type TestCertificates,
} from '../../testing-support/test-certificates.js';
import { InvalidTokenOptionsError } from '../../core/token.errors.js';
import { mtlsSchema } from '../../config/oauth2-mtls.options.js';
import { MtlsClient } from './oauth2-mtls.js';

let certs: TestCertificates;
let server: Server;
let url: string;
/** What the server answers next: status, headers, body. */
let answer: { status: number; headers?: Record<string, string | string[]>; body?: string };
let seen: { method?: string; headers?: Record<string, unknown>; body?: string; peer?: string };

beforeAll(async () => {
  certs = makeTestCertificates();
  server = createMtlsServer(certs, (request, body, response) => {
    const peer = [(request.socket as TLSSocket).getPeerCertificate().subject?.CN].flat()[0];
    seen = { method: request.method, headers: request.headers, body, peer };
    response.writeHead(answer.status, answer.headers ?? {});
    response.end(answer.body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(() => {
  server.close();
});

const client = () =>
  new MtlsClient({ certificate: certs.client.cert, privateKey: certs.client.key, ca: certs.ca });
const post = (mtls: MtlsClient) =>
  mtls.post({
    url,
    form: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'svc' }),
    headers: { 'x-extra': 'yes' },
    timeoutMs: 5_000,
    maxResponseBytes: 10_000,
  });

describe('MtlsClient', () => {
  it('posts the form over TLS with the client certificate and reads the answer', async () => {
    answer = {
      status: 200,
      headers: { 'content-type': 'application/json', 'dpop-nonce': 'n-1', 'set-cookie': ['a=1', 'b=2'] },
      body: '{"access_token":"at-1"}',
    };
    const mtls = client();
    try {
      const response = await post(mtls);
      expect(response).toMatchObject({
        status: 200,
        contentType: 'application/json',
        body: '{"access_token":"at-1"}',
        dpopNonce: 'n-1',
      });
      expect(seen.method).toBe('POST');
      expect(seen.body).toBe('grant_type=client_credentials&client_id=svc');
      expect(seen.headers).toMatchObject({
        'x-extra': 'yes',
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(seen.body!.length),
      });
      expect(seen.peer).toBe(new RegExp('CN=([^/,]+)').exec(certs.client.subject)?.[1]);
    } finally {
      mtls.close();
    }
  });

  it.each([204, 205, 304])('a %i answer has an empty body', async (status) => {
    answer = { status };
    const mtls = client();
    try {
      await expect(post(mtls)).resolves.toMatchObject({ status, body: '' });
    } finally {
      mtls.close();
    }
  });

  it('a 400 answer comes back as it is', async () => {
    answer = {
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: '{"error":"invalid_client"}',
    };
    const mtls = client();
    try {
      await expect(post(mtls)).resolves.toMatchObject({ status: 400, body: '{"error":"invalid_client"}' });
    } finally {
      mtls.close();
    }
  });

  it('refuses a key that does not match the certificate, naming the field only', () => {
    const mismatch = () => new MtlsClient({ certificate: certs.client.cert, privateKey: certs.stranger.key });
    expect(mismatch).toThrow(InvalidTokenOptionsError);
    expect(mismatch).toThrow('oauth2 "mtls": the certificate and private key are not a usable pair');
    try {
      mismatch();
    } catch (error) {
      expect(error).toMatchObject({ field: 'mtls' });
      expect(JSON.stringify(error)).not.toContain('PRIVATE KEY');
    }
  });

  it.each([
    [undefined, true],
    [true, true],
    [false, false],
  ])('boundTokens %s → %s', (boundTokens, expected) => {
    const mtls = new MtlsClient({
      certificate: certs.client.cert,
      privateKey: certs.client.key,
      boundTokens,
    });
    expect(mtls.boundTokens).toBe(expected);
    mtls.close();
  });

  it('the schema wants a PEM certificate', () => {
    expect(mtlsSchema.safeParse({ certificate: 'not a pem', privateKey: 'k' }).success).toBe(false);
    expect(mtlsSchema.safeParse({ certificate: certs.client.cert, privateKey: 'k' }).success).toBe(true);
  });
});
