import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a Redis, for tests that need a connection to hang at a chosen command:
 * once a client sends bytes containing the {@link stallOn} pattern, that connection forwards nothing
 * more either way (the command is lost, as on a dead link), until {@link dropConnections} cuts it.
 */
export class RedisProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private pattern: string | undefined;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => this.accept(client));
  }

  static async start(target = { host: '127.0.0.1', port: 6379 }): Promise<RedisProxy> {
    const proxy = new RedisProxy(target);
    proxy.server.listen(0, '127.0.0.1');
    await once(proxy.server, 'listening');
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next connection that sends `pattern` hangs from then on (one connection, once). */
  stallOn(pattern: string): void {
    this.pattern = pattern;
  }

  /** Cuts every open connection, as a network failure would; new ones are forwarded normally. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    let stalled = false;
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (data: Buffer) => {
      if (!stalled && this.pattern !== undefined && data.toString('latin1').includes(this.pattern)) {
        this.pattern = undefined;
        stalled = true;
      }
      if (!stalled) upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      if (!stalled) client.write(data);
    });
  }
}
