import type { z } from 'zod';
import { InvalidTokenOptionsError } from '../token.errors.js';

/**
 * Turns a zod issue into a field name and a message that names it. Zod messages describe the
 * expected shape, never the received value, so no secret can leak through them.
 */
export function describeZodIssue(issue: z.core.$ZodIssue): { field: string; message: string } {
  const field = issue.path.map(String).join('.');
  return { field, message: field ? `"${field}" ${issue.message}` : issue.message };
}

/**
 * Parses `value` or throws `InvalidTokenOptionsError` naming the provider (when the path starts with
 * `providers.<name>`) and the field.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, subject: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const [head, provider, ...rest] = issue.path.map(String);
  if (head === 'providers' && provider !== undefined) {
    const field = rest.join('.') || 'type';
    const message = rest.length > 0 ? `"${field}" ${issue.message}` : issue.message;
    throw new InvalidTokenOptionsError(`token provider "${provider}": ${message}`, provider, field);
  }
  const { field, message } = describeZodIssue(issue);
  throw new InvalidTokenOptionsError(`${subject}: ${message}`, undefined, field || undefined);
}
