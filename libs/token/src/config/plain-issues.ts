import type { z } from 'zod';

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
};

/**
 * Zod's default messages in plain words ("is required", "must be a list", "must be one of jwt,
 * oauth2, custom"), passed as the per-parse error map: a message a schema sets itself still wins.
 * Like zod's own, these describe the expected shape and never quote the received value.
 */
export function plainIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union's issue carries the values it knows and the key it reads (not in zod's
      // issue type); its input is the whole object, so the key's own value says missing or wrong.
      const { options, discriminator } = issue as { options?: unknown; discriminator?: unknown };
      if (Array.isArray(options)) {
        const known = options.map(String).join(', ');
        const { input } = issue;
        const value =
          typeof discriminator === 'string' && typeof input === 'object' && input !== null
            ? (input as Record<string, unknown>)[discriminator]
            : input;
        return value === undefined ? `is required: one of ${known}` : `must be one of ${known}`;
      }
      // Each alternative's own words: "must be a non-empty string or a list".
      const alternatives = [...new Set(issue.errors.map((issues) => issues[0]?.message))].filter(
        (text): text is string => typeof text === 'string' && text.startsWith('must be '),
      );
      if (alternatives.length === 0) return undefined;
      return `must be ${alternatives.map((text) => text.slice('must be '.length)).join(' or ')}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const [exclusive, inclusive] =
        issue.code === 'too_small' ? ['greater than', 'at least'] : ['less than', 'at most'];
      const than = issue.inclusive === false ? exclusive : inclusive;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint')
        return `must be ${than} ${String(bound)}`;
      if (issue.origin === 'string')
        return issue.code === 'too_small' && Number(bound) === 1
          ? 'must not be empty'
          : `must be ${than} ${String(bound)} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return issue.code === 'too_small' && Number(bound) === 1
          ? 'must not be an empty list'
          : `must list ${than} ${String(bound)} entries`;
      return undefined;
    }
    case 'invalid_format':
      return issue.format === 'url' ? 'must be an absolute URL' : `must be a valid ${issue.format}`;
    case 'unrecognized_keys':
      return 'is not an option';
    default:
      return undefined;
  }
}
