import { readFileSync } from 'node:fs';
import { EcpError } from '../common/errors';
import { parseJsonStrict } from '../common/jsonSafety';

/**
 * Reads a JSON object given inline (`'{"a":1}'`) or from a file (`@params.json`, `@-` for stdin). Input
 * that JSON.parse would silently change is refused (see parseJsonStrict).
 */
export function jsonObjectArg(value: string, field: string): Record<string, unknown> {
  let text = value;
  if (value.startsWith('@')) {
    const path = value.slice(1);
    try {
      text = readFileSync(path === '-' ? 0 : path, 'utf8');
    } catch (err) {
      throw new EcpError('invalid_input', `field "${field}": cannot read ${path}: ${(err as Error).message}`, field);
    }
  }
  // Strict: duplicate keys, numbers that do not round-trip and `__proto__`-style keys are refused, naming the path,
  // instead of JSON.parse silently dropping or rounding them.
  const parsed = parseJsonStrict(text, field);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new EcpError('invalid_input', `field "${field}" must be a JSON object`, field);
  }
  return parsed as Record<string, unknown>;
}

/** A positive integer option (e.g. --limit). */
export function positiveInt(value: string, field: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new EcpError('invalid_input', `--${field} must be a positive whole number, not "${value}"`, field);
  return n;
}
