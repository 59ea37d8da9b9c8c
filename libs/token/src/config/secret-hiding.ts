import { inspect } from 'node:util';

/** What a hidden value shows as. */
export const HIDDEN = '[hidden]';

/**
 * Option names whose values are credentials wherever they sit in the configuration: matched by
 * pattern, so a new option (`sentinelPassword`, `apiKey`, `refreshToken`, `subjectToken`) is hidden
 * without being listed. `key`/`token` count only as a whole word at the end of the name, which keeps
 * `keyPrefix`, `kid`, `tokenUrl`, `tokenType` and `encryptionKeys` (its entries' `key` is hidden)
 * readable.
 */
const SECRET_NAME = /password|passphrase|secret|credential|private|assertion|(?:^|[a-z0-9_-])(?:key|token)$/i;

/** Names that hold credentials without saying so. */
const SECRET_OPTIONS = new Set(['extraParams', 'redisClient']);

/** Names the pattern matches that identify rather than authenticate (the JWT issuer's key ID). */
const READABLE_OPTIONS = new Set(['accessKey', 'cacheKey']);

function isSecretName(name: string): boolean {
  return SECRET_OPTIONS.has(name) || (SECRET_NAME.test(name) && !READABLE_OPTIONS.has(name));
}

/** `redis://user:password@host` without the password. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = 'hidden';
    return parsed.href;
  } catch {
    return HIDDEN;
  }
}

/**
 * A copy for display: credentials replaced by {@link HIDDEN}, URLs without their password, and any
 * object that is not plain data (a store, a Redis client, a clock) shown by its class name only,
 * since it may hold connection options of its own.
 */
export function displayCopy(value: unknown, seen = new Set<unknown>()): unknown {
  if (typeof value === 'function') return `[${value.name || 'function'}]`;
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => displayCopy(item, seen));
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) {
    return `[${(value as { constructor?: { name?: string } }).constructor?.name ?? 'object'}]`;
  }
  const copy: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    const shown =
      isSecretName(name) && item !== undefined
        ? HIDDEN
        : name === 'url' && typeof item === 'string'
          ? withoutPassword(item)
          : displayCopy(item, seen);
    Object.defineProperty(copy, name, { value: shown, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

/**
 * Gives a configuration object a `util.inspect` rendering (and, with `json`, a `toJSON`) that hides
 * its credentials, so logging the module's options or a provider holding them shows no secret. The
 * object itself is unchanged for code that reads it; both methods are non-enumerable.
 */
export function hideSecretsFromInspection<T extends object>(value: T, options: { json?: boolean } = {}): T {
  Object.defineProperty(value, inspect.custom, {
    value: () => displayCopy(value),
    enumerable: false,
    configurable: true,
  });
  if (options.json) {
    Object.defineProperty(value, 'toJSON', {
      value: () => displayCopy(value),
      enumerable: false,
      configurable: true,
    });
  }
  return value;
}
