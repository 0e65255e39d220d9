import type { z } from 'zod';
import { EcpError } from './errors';

/** Formats a zod path as `parameters.amount` / `claims[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** The path of a zod issue; for an unknown key of a strict object, the path of that key (zod reports its parent). */
export function issuePath(issue: z.core.$ZodIssue | undefined): PropertyKey[] {
  if (!issue) return [];
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) return [...issue.path, issue.keys[0]!];
  return [...issue.path];
}

/** "a string", "an object", "a whole number": the zod type name as a person says it. */
function typeName(expected: string): string {
  const names: Record<string, string> = {
    object: 'an object',
    record: 'an object',
    array: 'an array',
    tuple: 'an array',
    int: 'a whole number',
    boolean: 'true or false',
    null: 'null',
    undefined: 'absent',
  };
  return names[expected] ?? `a ${expected}`;
}

/** The zod library's own wording (as opposed to a message a schema's author wrote for people). */
const LIBRARY_WORDING = /^(Invalid|Too (big|small)|Unrecognized key)/;

/**
 * A zod issue in words a person reads — "is required", "must be a string", "must be at most 64 characters", "is not
 * a known field" — never the validation library's own wording. A message the schema's author wrote is kept as it is.
 * `noun` names what the fields belong to, for unknown fields ("is not a known field of a signed decision").
 */
export function plainIssue(issue: z.core.$ZodIssue | undefined, noun?: string): string {
  if (!issue) return noun ? `is not a ${noun}` : 'is invalid';
  if (issue.code === 'unrecognized_keys') return noun ? `is not a known field of a ${noun}` : 'is not a known field';
  if (!LIBRARY_WORDING.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return /received undefined/.test(issue.message) ? 'is required' : `must be ${typeName(issue.expected)}`;
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = Number(small ? issue.minimum : (issue as z.core.$ZodIssueTooBig).maximum);
      if (issue.origin === 'string' && small && limit === 1) return 'must not be empty';
      const bound = small ? (issue.inclusive ? 'at least' : 'more than') : issue.inclusive ? 'at most' : 'less than';
      if (issue.origin === 'string') return `must be ${bound} ${limit} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${bound} ${limit} items`;
      if (issue.origin === 'number' || issue.origin === 'bigint') return `must be ${bound} ${limit}`;
      return small ? 'is too small' : 'is too large';
    }
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'regex') return `must match the pattern ${(issue as { pattern?: string }).pattern ?? ''}`.trim();
      return `must be a valid ${issue.format}`;
    case 'invalid_union': {
      // Every alternative wanted another type: say which types would do.
      const types = issue.errors.map((alt) =>
        alt.length === 1 && alt[0]!.code === 'invalid_type' && alt[0]!.path.length === 0 ? alt[0]!.expected : null,
      );
      if (types.every((t): t is string => t !== null)) {
        if (/received undefined/.test(issue.errors[0]?.[0]?.message ?? '')) return 'is required';
        const names = types.map(typeName);
        return `must be ${names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0]}`;
      }
      return 'does not match any accepted form';
    }
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_key':
      return 'has a key that is not allowed';
    case 'invalid_element':
      return 'has an element that is not allowed';
    default:
      return 'is invalid';
  }
}

/**
 * Parses `input` or throws an EcpError whose message names the first offending field and why, in words a person
 * reads (see {@link plainIssue}): `invalid proposal: field "resource" is required`.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath([...(prefix ? [prefix] : []), ...issuePath(issue)]);
  const where = path ? ` field "${path}"` : '';
  throw new EcpError('invalid_input', `invalid ${what}:${where} ${plainIssue(issue)}`, path || undefined);
}
