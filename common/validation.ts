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

/** Parses `input` or throws an EcpError whose message names the first offending field and why. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath([...(prefix ? [prefix] : []), ...issuePath(issue)]);
  const where = path ? ` field "${path}"` : '';
  throw new EcpError('invalid_input', `invalid ${what}:${where} ${issue?.message ?? 'is invalid'}`, path || undefined);
}
