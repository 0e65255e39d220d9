import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EcpError, FailureType, parseOrThrow, type EcpErrorCode } from '../../common';
import { httpStatusOf } from '../../api/errors';
import { EXIT, exitCodeForEcpError } from '../../cli/exitCodes';

const messageOf = (schema: z.ZodType, input: unknown): string => {
  try {
    parseOrThrow(schema, input, 'thing');
  } catch (err) {
    expect(err).toBeInstanceOf(EcpError);
    return (err as EcpError).message;
  }
  throw new Error('expected parseOrThrow to throw');
};

// What zod says in its own words; none of it may reach a person.
const LIBRARY_WORDING = /Invalid input|Invalid option|Invalid string|Too big|Too small|expected \w+, received|Unrecognized key|>=|<=/;

describe('parseOrThrow speaks in sentences a person understands', () => {
  it.each([
    ['invalid thing: field "a" is required', z.strictObject({ a: z.string() }), {}],
    ['invalid thing: field "a" must be a string', z.strictObject({ a: z.string() }), { a: 1 }],
    ['invalid thing: field "a" must be an object', z.strictObject({ a: z.object({}) }), { a: [] }],
    ['invalid thing: field "a" must be an object', z.strictObject({ a: z.record(z.string(), z.json()) }), { a: 'x' }],
    ['invalid thing: field "a" must be a whole number', z.strictObject({ a: z.number().int() }), { a: 1.5 }],
    ['invalid thing: field "a" must be at least 1', z.strictObject({ a: z.number().min(1) }), { a: 0 }],
    ['invalid thing: field "a" must be at most 5', z.strictObject({ a: z.number().max(5) }), { a: 9 }],
    ['invalid thing: field "a" must not be empty', z.strictObject({ a: z.string().min(1) }), { a: '' }],
    ['invalid thing: field "a" must be at least 3 characters', z.strictObject({ a: z.string().min(3) }), { a: 'ab' }],
    ['invalid thing: field "a" must be at most 3 characters', z.strictObject({ a: z.string().max(3) }), { a: 'abcd' }],
    ['invalid thing: field "a" must have at most 1 items', z.strictObject({ a: z.array(z.string()).max(1) }), { a: ['x', 'y'] }],
    ['invalid thing: field "a" must be one of "x", "y"', z.strictObject({ a: z.enum(['x', 'y']) }), { a: 'z' }],
    ['invalid thing: field "a" must be "k"', z.strictObject({ a: z.literal('k') }), { a: 'q' }],
    ['invalid thing: field "a" must match the pattern /^a+$/', z.strictObject({ a: z.string().regex(/^a+$/) }), { a: 'b' }],
    ['invalid thing: field "a" must be a string or a number', z.strictObject({ a: z.union([z.string(), z.number()]) }), { a: true }],
    ['invalid thing: field "extra" is not a known field', z.strictObject({ a: z.string() }), { a: 'x', extra: 1 }],
    ['invalid thing: must be an object', z.strictObject({ a: z.string() }), null],
  ] as const)('%s', (expected, schema, input) => {
    const message = messageOf(schema, input);
    expect(message).toBe(expected);
    expect(message).not.toMatch(LIBRARY_WORDING);
  });

  it("keeps a message the schema's author wrote", () => {
    expect(messageOf(z.strictObject({ a: z.string().min(1, 'must say why') }), { a: '' })).toBe('invalid thing: field "a" must say why');
  });
});

describe('EcpError is the one error type on every surface', () => {
  const codes: EcpErrorCode[] = [
    'invalid_input',
    'too_large',
    'conflict',
    'not_found',
    'config_invalid',
    'policy_invalid',
    'connection',
    'refused',
    'internal',
    'unauthenticated',
    'forbidden',
    'csrf',
    'rate_limited',
    'stale',
  ];

  it('every code has an HTTP status and a CLI exit code', () => {
    for (const code of codes) {
      expect(httpStatusOf(code), code).toBeGreaterThanOrEqual(400);
      expect(Object.values(EXIT), code).toContain(exitCodeForEcpError(code));
    }
    expect(httpStatusOf('stale')).toBe(409);
    expect(exitCodeForEcpError('stale')).toBe(EXIT.conflict);
  });

  it('puts code, message, field and refusal on the wire, and nothing empty', () => {
    expect(new EcpError('refused', 'the approver is not in group finance', 'statement.human', 'not_in_required_group').body()).toEqual({
      error: {
        code: 'refused',
        message: 'the approver is not in group finance',
        field: 'statement.human',
        refusal: 'not_in_required_group',
      },
    });
    expect(new EcpError('not_found', 'no such attempt').body()).toEqual({ error: { code: 'not_found', message: 'no such attempt' } });
  });
});

describe('Temporal failure types are named in one place', () => {
  const root = join(__dirname, '..', '..');
  const sources = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) return sources(path);
      return path.endsWith('.ts') ? [path] : [];
    });

  it('no source outside common/errors.ts spells one as a string literal', () => {
    const offenders: string[] = [];
    for (const dir of ['activities', 'api', 'audit', 'client', 'common', 'config', 'policy', 'ui', 'worker', 'workflows']) {
      for (const file of sources(dir)) {
        if (file === join('common', 'errors.ts')) continue;
        const text = readFileSync(join(root, file), 'utf8');
        for (const type of Object.values(FailureType))
          if (text.includes(`'${type}'`) || text.includes(`"${type}"`)) offenders.push(`${file}: ${type}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
