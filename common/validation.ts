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

/** Parses `input` or throws an EcpError whose message names the first offending field and why. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath([...(prefix ? [prefix] : []), ...(issue?.path ?? [])]);
  const where = path ? ` field "${path}"` : '';
  throw new EcpError('invalid_input', `invalid ${what}:${where} ${issue?.message ?? 'is invalid'}`, path || undefined);
}
