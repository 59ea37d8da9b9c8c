import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

/** A loopback port free right now (another process may still take it before it is used). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
