import { inspect } from 'node:util';

/** The secrets found in the texts, each with where it was seen. */
export function findLeaks(texts: Iterable<string>, secrets: readonly string[]): string[] {
  const leaks: string[] = [];
  for (const text of texts) {
    for (const secret of secrets) {
      if (text.includes(secret)) leaks.push(`secret "${secret.slice(0, 4)}…" in: ${text.slice(0, 200)}`);
    }
  }
  return leaks;
}

/** Every way an error can end up in a log: message, stack, String(), JSON, util.inspect. */
export function renderError(error: unknown): string[] {
  const e = error as Error;
  return [String(e?.message), String(e?.stack), String(error), safeJson(error), inspect(error, { depth: 4 })];
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

type Writable = { write: (...args: any[]) => boolean };

/** How {@link captureOutput} treats what it records. */
export interface CaptureOptions {
  /**
   * Pass each write and console call on to where it was going (default). With `false` it is only
   * recorded: the test report stays free of the log lines the code under test prints, while the
   * scan still sees every one of them.
   */
  echo?: boolean;
}

/**
 * Records what is written to stdout, stderr and the console from now on; `restore()` undoes it.
 */
export function captureOutput(target: string[], options: CaptureOptions = {}): () => void {
  const echo = options.echo ?? true;
  const restores: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr] as Writable[]) {
    const original = stream.write;
    stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      target.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      if (echo) return original.call(this, chunk, ...rest);
      // A write's callback is its last argument; call it as the stream would.
      const callback = rest.at(-1);
      if (typeof callback === 'function') queueMicrotask(() => callback());
      return true;
    };
    restores.push(() => (stream.write = original));
  }
  const console = globalThis.console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace']) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      target.push(args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg, { depth: 4 }))).join(' '));
      if (echo) return original.apply(globalThis.console, args);
    };
    restores.push(() => (console[method] = original));
  }
  return () => restores.forEach((restore) => restore());
}

/**
 * Records every instance of an error class as it is built. The class sets `this.name` in its
 * constructor (after `super()` set the message), so a `name` setter on its prototype sees each one.
 */
export function collectInstances(
  errorClass: abstract new (...args: any[]) => Error,
  target: unknown[],
): () => void {
  const proto = errorClass.prototype as object;
  const previous = Object.getOwnPropertyDescriptor(proto, 'name');
  Object.defineProperty(proto, 'name', {
    configurable: true,
    get(this: Error) {
      return this.constructor.name;
    },
    set(this: Error, value: string) {
      Object.defineProperty(this, 'name', { value, writable: true, configurable: true, enumerable: false });
      target.push(this);
    },
  });
  return () => {
    if (previous) Object.defineProperty(proto, 'name', previous);
    else delete (proto as { name?: string }).name;
  };
}
