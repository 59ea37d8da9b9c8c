import { expect } from '@jest/globals';
import { InvalidTokenOptionsError } from '../core/token.errors.js';

/** What a schema's `safeParse` hands back (structurally: specs outside config/ import no zod). */
interface SafeParser {
  safeParse(
    value: unknown,
  ):
    | { success: true }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string; code: string }[] } };
}

/** The issues a schema finds in `value`, as dotted path, message and code; none when it parses. */
export function schemaIssues(schema: SafeParser, value: unknown) {
  const result = schema.safeParse(value);
  return result.success
    ? []
    : result.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
        code: issue.code,
      }));
}

/** The `InvalidTokenOptionsError` `run` throws; fails the test when it throws nothing or another error. */
export function thrownOptionsError(run: () => unknown): InvalidTokenOptionsError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidTokenOptionsError);
    return error as InvalidTokenOptionsError;
  }
  throw new Error('expected an InvalidTokenOptionsError');
}
