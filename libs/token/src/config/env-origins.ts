/**
 * Where the parts of a `tokenConfigFromEnv` result came from, so a configuration error can name the
 * environment variable to fix. Kept beside the objects (not in them), so the configuration itself is
 * unchanged and still survives `ConfigService`, which hands back the same objects.
 */
interface EnvOrigin {
  /** Prepended to an option's segment to name its variable, e.g. `TOKEN__PROVIDERS__KLING__`. */
  prefix: string;
  /** The exact variable that set each key (a value or the start of nested options). */
  names: Map<string, string>;
}

const origins = new WeakMap<object, EnvOrigin>();

/** Records that `key` of `node` (whose variables start with `prefix`) came from variable `name`. */
export function recordEnvOrigin(node: object, prefix: string, key: string, name: string): void {
  let origin = origins.get(node);
  if (origin === undefined) origins.set(node, (origin = { prefix, names: new Map() }));
  origin.names.set(key, name);
}

/** `secretKey` → `SECRET_KEY`, as `tokenConfigFromEnv` reads it back. */
function envSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/**
 * The environment variable behind `path` in `config` (the one that sets it, or the one to add for a
 * missing option), or undefined when that part did not come from `tokenConfigFromEnv`.
 */
export function envVariableOf(config: unknown, path: readonly PropertyKey[]): string | undefined {
  let node = config;
  let name: string | undefined;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) break;
    const key = String(segment);
    const origin = origins.get(node);
    name = origin === undefined ? undefined : (origin.names.get(key) ?? `${origin.prefix}${envSegment(key)}`);
    const child: unknown = Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
    // A JSON value (`…__BASE_URLS=["…"]`) is one variable: deeper paths point at it.
    if (typeof child === 'object' && child !== null && !origins.has(child)) break;
    node = child;
  }
  return name;
}
