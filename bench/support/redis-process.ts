import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';

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

/** How long a `redis-server` may take to answer before it counts as failed to start. */
const START_LIMIT_MS = 20_000;

/**
 * Every `redis-server` started here and still running. A test or benchmark that ends without stopping
 * its servers (a failure, a timeout, Ctrl-C, a worker told to stop) still takes them down with it.
 * Only a SIGKILL of this process itself can leave one behind.
 */
const running = new Set<ChildProcess>();

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

let hooked = false;
function track(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      // Kill the servers, then let the signal do what it would have done without this listener.
      process.once(signal, () => {
        killAll();
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * The PID of the server answering on `port`, from `INFO server`; undefined while nothing answers. A
 * plain PING is not enough: with several test runs on one machine, another run's server may hold the
 * port this one failed to bind.
 */
function serverPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(port, '127.0.0.1');
    const done = (pid: number | undefined) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(1_000);
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (data) => {
      reply += data.toString();
      const match = /process_id:(\d+)\r\n/.exec(reply);
      if (match !== null) done(Number(match[1]));
      else if (reply.startsWith('-')) done(undefined); // e.g. LOADING: not ready yet
    });
    socket.once('error', () => done(undefined));
    socket.once('timeout', () => done(undefined));
  });
}

/**
 * Starts `redis-server` with `args` on `port` (the args must name it) and waits until that very
 * process answers. Fails at once, with the server's last output lines, when it exits during start-up
 * (a port taken meanwhile, a port Redis refuses), and kills it when it does not answer in time.
 */
export async function launchRedis(port: number, args: string[], cwd?: string): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  track(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-2_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start redis-server: ${error.message}`)));
    child.once('exit', (code, signal) => {
      const lastLines = output.trim().split('\n').slice(-2).join(' | ');
      reject(new Error(`redis-server on port ${port} exited at start (${signal ?? code}): ${lastLines}`));
    });
  });
  exited.catch(() => {});
  const deadline = Date.now() + START_LIMIT_MS;
  try {
    while ((await Promise.race([serverPid(port), exited])) !== child.pid) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer`);
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), exited]);
    }
    return child;
  } catch (error) {
    await stopRedis(child);
    throw error;
  }
}

/**
 * {@link launchRedis} on a free port, `args(port)` giving the arguments; on a start-up failure (most
 * often a port another process took between the pick and the bind) it tries new ports twice more.
 */
export async function launchRedisOnFreePort(
  args: (port: number) => string[] | Promise<string[]>,
  cwd?: string,
): Promise<{ port: number; child: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { port, child: await launchRedis(port, await args(port), cwd) };
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** SIGKILLs the server (stopped with SIGSTOP or not), as a crashed host would, and waits until it is gone. */
export async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/**
 * Whether a process with this PID still runs (for tests checking that nothing is left behind). A
 * zombie (killed, its parent gone, not yet reaped, as happens under a container's PID 1) counts as
 * gone.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc: the signal check is all there is
  }
}
