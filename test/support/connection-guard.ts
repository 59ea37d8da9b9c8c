import net from 'node:net';

/**
 * Every TCP connection this process opens (`fetch`, `node:http(s)`, TLS) goes through
 * `net.Socket.prototype.connect`. The guard wraps it: a connection to a host that is not loopback is
 * never made (the socket fails with ECONNREFUSED) and is counted, so a test can assert that the
 * library did not even try, and no packet leaves the machine whatever the code under test does.
 * `aliases` maps test host names (`idp.test`) to a loopback address: an issuer "off loopback" by
 * name whose server runs here.
 */
export interface ConnectionGuard {
  /** The hosts of the connection attempts refused, in order. */
  readonly refused: string[];
  restore(): void;
}

type ConnectOptions = { host?: string; path?: string | null };
const normalizeArgs = (net as unknown as { _normalizeArgs(args: unknown[]): unknown[] })._normalizeArgs;

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

export function guardConnections(aliases: Record<string, string> = {}): ConnectionGuard {
  const original = net.Socket.prototype.connect;
  const refused: string[] = [];
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    // `net.connect` hands over its already normalised `[options, callback]`; other callers raw args.
    const normalized = Array.isArray(args[0]) ? (args[0] as unknown[]) : normalizeArgs(args);
    const options = normalized[0] as ConnectOptions;
    // A non-empty `path` is a local (IPC) socket; `null` comes from URL-shaped options.
    if (!options.path) {
      const host = options.host ?? 'localhost';
      const alias = aliases[host];
      if (alias !== undefined) options.host = alias;
      else if (!isLoopback(host)) {
        refused.push(host);
        const error = Object.assign(new Error(`connection to ${host} refused by the test guard`), {
          code: 'ECONNREFUSED',
        });
        process.nextTick(() => this.destroy(error));
        return this;
      }
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, [normalized]);
  } as typeof net.Socket.prototype.connect;
  return {
    refused,
    restore: () => {
      net.Socket.prototype.connect = original;
    },
  };
}
