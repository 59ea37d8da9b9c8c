import type { ConfigService } from '@nestjs/config';
import type { z } from 'zod';
import { TOKEN_CONFIG_NAMESPACE } from '../core/token.constants.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { tokenConfigSchema, type TokenModuleOptions } from './token.options.js';
import { envVariableOf, recordEnvOrigin } from './env-origins.js';
import { checkRequiredBaseUrls } from './require-base-urls.check.js';
import { hideSecretsFromInspection } from './secret-hiding.js';
import { markValidated, parseOrThrow, refuseReservedKeys } from './validation.js';

export type ResolvedTokenConfig = z.output<typeof tokenConfigSchema>;

/**
 * The configuration in force: options given to `forRoot` win; without `providers`, the `token`
 * namespace of `ConfigService` fills in whatever the options leave out. Validated once, at start-up.
 */
export function resolveTokenConfig(options: TokenModuleOptions, config?: ConfigService): ResolvedTokenConfig {
  const { clock: _clock, store, redisClient: _redisClient, ...plain } = options;
  const fromConfigService =
    plain.providers === undefined ? (config?.get<Record<string, unknown>>(TOKEN_CONFIG_NAMESPACE) ?? {}) : {};
  // Checked before merging: assigning an own `__proto__` key would replace the prototype instead.
  refuseReservedKeys(plain, 'token module options');
  refuseReservedKeys(fromConfigService, `configuration namespace "${TOKEN_CONFIG_NAMESPACE}"`);
  const merged: Record<string, unknown> = { ...fromConfigService };
  for (const [key, value] of Object.entries(plain)) if (value !== undefined) merged[key] = value;
  if (typeof store === 'string') merged.store = store;
  else if (store !== undefined) delete merged.store; // an instance is not configuration
  const resolved = parseOrThrow(tokenConfigSchema, merged, 'token module options', {
    // A mistake in what tokenConfigFromEnv read names its variable (`options` itself: `plain` is a
    // copy, which tokenConfigFromEnv never saw).
    variableOf: (path) => envVariableOf(options, path) ?? envVariableOf(fromConfigService, path),
  });
  checkRequiredBaseUrls(resolved);
  // Validated once: the strategies and `register` take these as they are.
  for (const provider of Object.values(resolved.providers ?? {})) markValidated(provider);
  // Held by the module as a provider: inspecting it (or anything that reaches it) shows no secret.
  return hideSecretsFromInspection(resolved, { json: true });
}

/**
 * Reads a `token` configuration from environment variables, so a provider is added without code:
 * `TOKEN__PROVIDERS__KLING__TYPE=jwt`, `TOKEN__PROVIDERS__KLING__ACCESS_KEY=…` →
 * `{ providers: { kling: { type: 'jwt', accessKey: '…' } } }`. Segments are separated by `__`
 * and turned into camelCase. Only numeric options (names ending in `Ms`, `Seconds`, `Bytes`, and
 * `port`, `db`) become numbers and only boolean options become booleans, so an id like `0012345` or
 * a password like `123456` stays a string; a value starting with `[` or `{` is parsed as JSON
 * (e.g. `baseUrls`, `encryptionKeys`).
 *
 * @publicApi
 * @example
 * ConfigModule.forRoot({ load: [registerAs('token', () => tokenConfigFromEnv(process.env))] })
 */
export function tokenConfigFromEnv(
  env: Record<string, string | undefined>,
  prefix = 'TOKEN__',
): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(prefix) || raw === undefined) continue;
    const path = name.slice(prefix.length).split('__').filter(Boolean);
    if (path.length === 0) continue;
    // Provider names keep their case (lower-cased); option names become camelCase.
    const keys = path.map((segment, index) =>
      path[0] === 'PROVIDERS' && index === 1 ? segment.toLowerCase() : camelCase(segment),
    );
    let node = root;
    for (const [index, key] of keys.slice(0, -1).entries()) {
      recordEnvOrigin(
        node,
        variablePrefix(prefix, path, index),
        key,
        `${prefix}${path.slice(0, index + 1).join('__')}`,
      );
      // Own properties only: `constructor` or `prototype` must name options, never reach Object.
      if (!Object.hasOwn(node, key)) node[key] = {};
      const next = node[key];
      if (typeof next !== 'object' || next === null) {
        const parent = `${prefix}${path.slice(0, index + 1).join('__')}`;
        throw new InvalidTokenOptionsError(
          `environment variable ${name}: ${parent} already sets a value there, so it cannot also hold options`,
          undefined,
          keys.slice(0, index + 1).join('.'),
        );
      }
      node = next as Record<string, unknown>;
    }
    const key = keys[keys.length - 1];
    recordEnvOrigin(node, variablePrefix(prefix, path, keys.length - 1), key, name);
    const value = convert(raw, key);
    const existing = Object.hasOwn(node, key) ? node[key] : undefined;
    if (typeof existing === 'object' && existing !== null) {
      // `X={"a":1}` and `X__B=2` combine whatever order the environment lists them in.
      if (typeof value !== 'object' || value === null || Array.isArray(value) || Array.isArray(existing)) {
        throw new InvalidTokenOptionsError(
          `environment variable ${name}: other ${name}__… variables already set options there`,
          undefined,
          keys.join('.'),
        );
      }
      node[key] = { ...value, ...existing };
    } else node[key] = value;
  }
  return root;
}

/** What the variables of the options at depth `depth` of `path` start with: `TOKEN__PROVIDERS__KLING__`. */
function variablePrefix(prefix: string, path: string[], depth: number): string {
  return depth === 0 ? prefix : `${prefix}${path.slice(0, depth).join('__')}__`;
}

function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());
}

/** Options whose values are numbers or booleans; everything else stays a string. */
const NUMERIC_OPTION = /(Ms|Seconds|Bytes)$|^(port|db)$/;
const BOOLEAN_OPTIONS = new Set([
  'enabled',
  'strictOrigin',
  'allowInsecureHttp',
  'useRefreshToken',
  'tls',
  'requiredAtStartup',
  'dpop',
  'boundTokens',
  'allowLocalEndpoints',
  'requireBaseUrls',
]);

function convert(raw: string, key: string): unknown {
  const value = raw.trim();
  if (BOOLEAN_OPTIONS.has(key) && (value === 'true' || value === 'false')) return value === 'true';
  if (NUMERIC_OPTION.test(key) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (value.startsWith('[') || value.startsWith('{')) {
    try {
      return JSON.parse(value);
    } catch {
      return raw;
    }
  }
  return raw;
}
