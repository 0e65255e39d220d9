import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decimalKey, EcpError, FORBIDDEN_KEYS, parseJsonStrict } from '../../../common';

const RUNS = { numRuns: 500, seed: 8785 };

/** JSON values without forbidden keys (fast-check can generate "__proto__" and "constructor" as keys). */
const keepableJson = fc.jsonValue({ maxDepth: 4 }).filter((v) => !/"(?:__proto__|constructor|prototype)":/.test(JSON.stringify(v)));

const refusal = (text: string, field = 'parameters'): EcpError => {
  try {
    parseJsonStrict(text, field);
  } catch (err) {
    expect(err).toBeInstanceOf(EcpError);
    return err as EcpError;
  }
  throw new Error(`expected ${text} to be refused`);
};

describe('parseJsonStrict (property-based)', () => {
  it('reads what JSON.stringify writes exactly as JSON.parse does', () => {
    fc.assert(
      fc.property(keepableJson, fc.constantFrom(undefined, 2), (value, space) => {
        const text = JSON.stringify(value, null, space);
        expect(parseJsonStrict(text, 'f')).toStrictEqual(JSON.parse(text));
      }),
      RUNS,
    );
  });

  it('never accepts text JSON.parse refuses, and otherwise agrees with it or refuses with invalid_input', () => {
    const texts = fc.oneof(
      fc.string(),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .tuple(
          fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          fc.nat(),
          fc.string({ maxLength: 3 }),
        )
        .map(([t, i, s]) => t.slice(0, i % (t.length + 1)) + s + t.slice(i % (t.length + 1))),
    );
    fc.assert(
      fc.property(texts, (text) => {
        let expected: unknown;
        let jsonOk = true;
        try {
          expected = JSON.parse(text);
        } catch {
          jsonOk = false;
        }
        try {
          const got = parseJsonStrict(text, 'f');
          expect(jsonOk).toBe(true);
          expect(got).toStrictEqual(expected);
        } catch (err) {
          if (!(err instanceof EcpError)) throw err;
          expect(err.code).toBe('invalid_input');
          expect(err.field?.startsWith('f')).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('accepts an integer token exactly when the double it parses to is that integer (BigInt oracle)', () => {
    const integerText = fc.tuple(fc.boolean(), fc.stringMatching(/^[1-9][0-9]{0,24}$/)).map(([neg, d]) => `${neg ? '-' : ''}${d}`);
    fc.assert(
      fc.property(integerText, (token) => {
        const exact = BigInt(token) === BigInt(Number(token));
        if (exact) expect(parseJsonStrict(`{"n":${token}}`, 'p')).toEqual({ n: Number(token) });
        else expect(refusal(`{"n":${token}}`, 'p').field).toBe('p.n');
      }),
      RUNS,
    );
  });

  it('accepts every canonical serialization of a finite double, and its exponent spellings', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        const text = String(d).replace('e+', 'E+');
        const got = parseJsonStrict(`[${text}]`, 'p') as number[];
        expect(got[0] === d || (d === 0 && got[0] === 0)).toBe(true);
      }),
      RUNS,
    );
  });

  it('refuses a number token that denotes a different value than its double, naming the field', () => {
    // A canonical number with extra significant digits appended denotes a different value than any double nearby.
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true, min: 1e-300, max: 1e300 }),
        fc.stringMatching(/^[1-9]$/),
        (d, extra) => {
          const [mantissa, exponent] = String(d).split('e');
          const longer = `${mantissa!.includes('.') ? mantissa : `${mantissa}.`}00000000000000000000${extra}${exponent ? `e${exponent}` : ''}`;
          expect(decimalKey(longer)).not.toBe(decimalKey(String(Number(longer))));
          const err = refusal(`{"a":{"b":[${longer}]}}`);
          expect(err.field).toBe('parameters.a.b[0]');
          expect(err.message).toContain('cannot be kept exactly');
        },
      ),
      RUNS,
    );
  });

  it('refuses a duplicate key anywhere, naming its path', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 8 }).filter((k) => !FORBIDDEN_KEYS.has(k)),
        keepableJson,
        keepableJson,
        (key, a, b) => {
          const k = JSON.stringify(key);
          const err = refusal(`{"outer":[{${k}:${JSON.stringify(a)},${k}:${JSON.stringify(b)}}]}`);
          expect(err.field).toBe(`parameters.outer[0].${key}`);
          expect(err.message).toMatch(/duplicate key/);
        },
      ),
      RUNS,
    );
  });
});

describe('parseJsonStrict examples', () => {
  it.each([
    ['{"amount":12345678901234567890}', 'parameters.amount', /12345678901234567890.*cannot be kept exactly/],
    ['{"amount":1e400}', 'parameters.amount', /too large/],
    ['{"amount":0.10000000000000000001}', 'parameters.amount', /cannot be kept exactly/],
    ['{"a":1,"a":1}', 'parameters.a', /duplicate key/],
    ['{"x":{"__proto__":{"admin":true}}}', 'parameters.x.__proto__', /__proto__/],
    ['{"constructor":1}', 'parameters.constructor', /constructor/],
    ['[{"prototype":1}]', 'parameters[0].prototype', /prototype/],
    ['{"a":', 'parameters', /not valid JSON/],
  ])('%s → %s', (text, field, reason) => {
    const err = refusal(text);
    expect(err.field).toBe(field);
    expect(err.message).toContain(`field "${field}"`);
    expect(err.message).toMatch(reason);
  });

  it('keeps numbers that round-trip in any spelling, and -0 as zero', () => {
    expect(parseJsonStrict('{"a":1.0,"b":1E2,"c":0.1,"d":9007199254740993e-16,"e":-0,"f":1.5e-7}', 'p')).toEqual({
      a: 1,
      b: 100,
      c: 0.1,
      d: 0.9007199254740993,
      e: -0,
      f: 1.5e-7,
    });
  });

  it('refuses nesting beyond the depth bound without overflowing the stack', () => {
    expect(refusal('['.repeat(100_000) + ']'.repeat(100_000)).message).toMatch(/nested more than/);
  });
});
