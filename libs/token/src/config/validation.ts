import type { z } from 'zod';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import { plainIssueMessage } from './plain-issues.js';

/**
 * Turns a zod issue into a field name and a message that names it. Zod messages describe the
 * expected shape, never the received value, so no secret can leak through them.
 */
export function describeZodIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  const field = issue.path.map(String).join('.');
  return { field, message: field ? `"${field}" ${issue.message}` : issue.message };
}

/** How `parseOrThrow` describes a mistake: the environment variable behind a path, when there is one. */
export interface ParseContext {
  variableOf?: (path: readonly PropertyKey[]) => string | undefined;
}

/**
 * Parses `value` or throws one `InvalidTokenOptionsError` listing every mistake in plain words, each
 * naming the provider (when the path starts with `providers.<name>`), the field and, with
 * `context.variableOf`, the environment variable. The error's `provider` and `field` are the first's.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  subject: string,
  context: ParseContext = {},
): z.output<S> {
  refuseReservedKeys(value, subject);
  const result = schema.safeParse(value, { error: plainIssueMessage });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap(perField).map(({ path, message }) => {
    const variable = context.variableOf?.(path);
    return optionsError(path, variable ? `${message} (environment variable ${variable})` : message, subject);
  });
  if (problems.length === 1) throw problems[0];
  const lines = problems.map((problem) => `  - ${problem.message.replace(`${subject}: `, '')}`);
  throw new InvalidTokenOptionsError(
    `${subject}: ${problems.length} mistakes:\n${lines.join('\n')}`,
    problems[0].provider,
    problems[0].field,
  );
}

/** An issue per field: an unknown key is a mistake of its own, named by its path. */
function perField(issue: z.core.$ZodIssue): Array<{ path: PropertyKey[]; message: string }> {
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: issue.message }));
  return [{ path: issue.path, message: issue.message }];
}

/** Objects this module has already parsed (start-up configuration), so nothing parses them twice. */
const validated = new WeakSet<object>();

/** Records that `value` is the output of a successful parse. */
export function markValidated<T extends object>(value: T): T {
  validated.add(value);
  return value;
}

/**
 * `value` as it is when it came out of a parse here (the module's configuration handed to a
 * strategy or to `register`); otherwise what `parse()` makes of it (a strategy built by hand).
 */
export function validatedOr<T>(value: unknown, parse: () => T): T {
  return typeof value === 'object' && value !== null && validated.has(value) ? (value as T) : parse();
}

/** `wholeProvider` is the field named when the issue is about a provider as a whole. */
function optionsError(
  path: readonly PropertyKey[],
  issueMessage: string,
  subject: string,
  wholeProvider = 'type',
): InvalidTokenOptionsError {
  const [head, provider, ...rest] = path.map(String);
  if (head === 'providers' && provider !== undefined) {
    const field = rest.join('.') || wholeProvider;
    const message = rest.length > 0 ? `"${field}" ${issueMessage}` : issueMessage;
    return new InvalidTokenOptionsError(`token provider "${provider}": ${message}`, provider, field);
  }
  const { field, message } = describeZodIssue({ path: [...path], message: issueMessage } as z.core.$ZodIssue);
  return new InvalidTokenOptionsError(`${subject}: ${message}`, undefined, field || undefined);
}

/** Throws `InvalidTokenOptionsError` naming the first own `__proto__` key found in `value`. */
export function refuseReservedKeys(value: unknown, subject: string): void {
  const reserved = findReservedKey(value);
  if (reserved)
    throw optionsError(reserved, 'is a reserved name and cannot be used as a key', subject, 'name');
}

/**
 * The path to the first own `__proto__` key in plain objects and arrays (JSON.parse and object
 * spreads create such keys). Zod drops them while parsing, so a provider, claim or parameter
 * under that name would vanish without a word; it is refused instead.
 */
function findReservedKey(
  value: unknown,
  path: PropertyKey[] = [],
  seen = new Set<object>(),
): PropertyKey[] | undefined {
  if (typeof value !== 'object' || value === null || seen.has(value) || !isPlainOrArray(value))
    return undefined;
  seen.add(value);
  if (Object.hasOwn(value, '__proto__')) return [...path, '__proto__'];
  for (const key of Object.keys(value)) {
    const found = findReservedKey((value as Record<string, unknown>)[key], [...path, key], seen);
    if (found) return found;
  }
  return undefined;
}

function isPlainOrArray(value: object): boolean {
  if (Array.isArray(value)) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
