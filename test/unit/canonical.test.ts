import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attemptIdFor, canonicalJson, digestOf, parseProposal, proposalHash } from '../../common';

const base = {
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: 'order-1',
  parameters: { orderId: 'order-1', amount: 100, reason: 'x' },
  justification: 'because',
  idempotencyKey: 'k1',
};

describe('canonical JSON (RFC 8785)', () => {
  it('sorts keys, drops insignificant whitespace and normalises numbers', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: 1e21, c: 0.1 }], é: 'x' })).toBe('{"a":[3,{"c":0.1,"d":1e+21}],"b":1,"é":"x"}');
    expect(canonicalJson({ n: 10.0, z: -0 })).toBe('{"n":10,"z":0}');
  });

  it('matches the RFC 8785 sample for string escaping', () => {
    expect(canonicalJson({ s: '\u20ac$\u000f\nA\'B"\\\\"/' })).toBe('{"s":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('is exactly the `canonicalize` package: the same text, or the same refusal, for any value', () => {
    const outcome = (f: () => string | undefined) => {
      try {
        return { text: f() };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    // Lone and paired surrogates, escapes, numbers JSON cannot hold, undefined, sparse keys and integer-like keys.
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('\ud800', 'a\udfff', '\ud83d\ude00', '\\ud800', '10', '9', '__proto__'),
    );
    const leaf = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.constant(-0));
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
      array: fc.array(tie('any'), { maxLength: 5 }),
      object: fc.dictionary(text, tie('any'), { maxKeys: 5 }),
    })).any;
    fc.assert(
      fc.property(value, (v) => {
        const expected = outcome(() => canonicalize(v));
        const actual = outcome(() => canonicalJson(v));
        if (expected.text === undefined && !('error' in expected)) expect(actual.error).toBe('value has no JSON representation');
        else expect(actual).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow('Circular reference detected');
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    expect(() => canonicalJson({ n: Number.NaN })).toThrow('NaN is not allowed');
  });

  it('gives the same digest regardless of key order', () => {
    expect(digestOf({ a: 1, b: { c: 2, d: 3 } })).toBe(digestOf({ b: { d: 3, c: 2 }, a: 1 }));
    expect(digestOf({ a: 1 })).toBe('sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
  });
});

describe('proposal hash', () => {
  it('is stable under key order and changes with any parameter', () => {
    const a = parseProposal(base);
    const b = parseProposal({ ...base, parameters: { reason: 'x', amount: 100, orderId: 'order-1' } });
    expect(proposalHash(a)).toBe(proposalHash(b));
    expect(proposalHash(parseProposal({ ...base, parameters: { ...base.parameters, amount: 101 } }))).not.toBe(proposalHash(a));
    expect(proposalHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('binds the idempotency key, so two attempts of the same content have different hashes', () => {
    expect(proposalHash(parseProposal({ ...base, idempotencyKey: 'k2' }))).not.toBe(proposalHash(parseProposal(base)));
  });

  it('fills claims with {} so an omitted and an empty claims object hash alike', () => {
    expect(proposalHash(parseProposal(base))).toBe(proposalHash(parseProposal({ ...base, claims: {} })));
  });
});

describe('attempt ID', () => {
  it('is derived from agent and idempotency key only', () => {
    expect(attemptIdFor('a', 'k')).toBe(attemptIdFor('a', 'k'));
    expect(attemptIdFor('a', 'k')).not.toBe(attemptIdFor('b', 'k'));
    expect(attemptIdFor('a', 'k')).toMatch(/^att-[0-9a-f]{32}$/);
    // No ambiguity between "ab"+"c" and "a"+"bc".
    expect(attemptIdFor('ab', 'c')).not.toBe(attemptIdFor('a', 'bc'));
  });
});
