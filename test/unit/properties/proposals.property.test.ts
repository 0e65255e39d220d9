import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Client } from '@temporalio/client';
import { EcpError, LIMITS, parseProposal, type ProposalInput } from '../../../common';
import { EcpClient } from '../../../client';
import { loadPlaneConfig } from '../../../config/load';
import { demoConfigPath } from './demoConfig';

const valid = (): ProposalInput => ({
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: 'order-1001',
  parameters: { orderId: 'order-1001', amount: 7_500, reason: 'damaged in transit' },
  justification: 'Customer sent photos of the damage',
  claims: { total: 12_000 },
  idempotencyKey: 'refund-42',
});
const FIELDS = Object.keys(valid());

/** Any JSON value, including the wrong types for every field. */
const jsonValue = fc.jsonValue({ maxDepth: 3 });
/** One mutation of a valid proposal: a field replaced, removed, or an unknown one added. */
const mutation = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    field: fc.constantFrom(...FIELDS),
    value: fc.oneof(jsonValue, fc.string(), fc.constant(undefined)),
  }),
  fc.record({ op: fc.constant('delete' as const), field: fc.constantFrom(...FIELDS) }),
  fc.record({
    op: fc.constant('add' as const),
    field: fc.string({ minLength: 1, maxLength: 12 }).filter((f) => !FIELDS.includes(f) && f !== '__proto__'),
    value: jsonValue,
  }),
  fc.record({ op: fc.constant('param' as const), field: fc.constantFrom('orderId', 'amount', 'reason', 'extra'), value: jsonValue }),
);

function apply(p: Record<string, unknown>, m: { op: string; field: string; value?: unknown }) {
  if (m.op === 'delete') delete p[m.field];
  else if (m.op === 'param') {
    if (p.parameters && typeof p.parameters === 'object' && !Array.isArray(p.parameters))
      (p.parameters as Record<string, unknown>)[m.field] = m.value;
  } else p[m.field] = m.value;
  return p;
}

/** The proposal is accepted, or refused with an EcpError that names the field — never any other exception. */
function outcome(input: unknown): { ok: true } | { ok: false; error: EcpError } {
  try {
    parseProposal(input);
    return { ok: true };
  } catch (err) {
    if (!(err instanceof EcpError)) throw new Error(`parseProposal threw a ${(err as Error)?.constructor?.name}: ${String(err)}`);
    return { ok: false, error: err };
  }
}

describe('proposals (property-based)', { timeout: 60_000 }, () => {
  it('every mutation of a valid proposal is accepted or refused with an EcpError naming the mutated field', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const input = mutations.reduce((p, m) => apply(p, m), structuredClone(valid()) as Record<string, unknown>);
        const result = outcome(input);
        if (result.ok) return;
        const { error } = result;
        expect(['invalid_input', 'too_large']).toContain(error.code);
        // An unknown top-level key is reported at the root (strict object); everything else by its path.
        const touched = new Set(mutations.map((m) => (m.op === 'param' ? 'parameters' : m.field)));
        if (error.field) {
          const named = [...touched].some((f) => error.field === f || error.field!.startsWith(`${f}.`) || error.field!.startsWith(`${f}[`));
          expect(named, `${error.field} not among ${[...touched].join(', ')}`).toBe(true);
          expect(error.message).toContain(error.field);
        } else expect(error.message).toMatch(/unrecognized key|invalid proposal/i);
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it('any JSON value at all is refused with an EcpError, never a crash', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3 }), (input) => {
        const result = outcome(input);
        if (!result.ok) expect(result.error.message).toMatch(/^invalid proposal|limit/);
      }),
      { numRuns: 500, seed: 6 },
    );
  });

  it(`a proposal over ${LIMITS.proposalBytes} bytes is refused as too_large, naming the limit`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: LIMITS.proposalBytes + 1, max: 4 * LIMITS.proposalBytes }),
        fc.integer({ min: 1, max: 20 }),
        (bytes, pieces) => {
          const parameters = Object.fromEntries(Array.from({ length: pieces }, (_, i) => [`p${i}`, 'x'.repeat(Math.ceil(bytes / pieces))]));
          const result = outcome({ ...valid(), parameters });
          expect(result.ok).toBe(false);
          if (result.ok) return;
          expect(result.error).toMatchObject({ code: 'too_large', field: 'parameters' });
          expect(result.error.message).toContain(String(LIMITS.proposalBytes));
        },
      ),
      { numRuns: 30, seed: 7 },
    );
  });

  it('the client refuses invalid proposals before it touches Temporal: nothing is started', async () => {
    const config = loadPlaneConfig(demoConfigPath());
    let touched = 0;
    // A Temporal client that counts every use: an invalid proposal must not reach it.
    const trap: unknown = new Proxy(function () {}, {
      get: () => (touched++, trap),
      apply: () => Promise.reject(new Error('Temporal was called')),
    });
    const ecp = new EcpClient(trap as Client, config);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const input = mutations.reduce((p, m) => apply(p, m), structuredClone(valid()) as Record<string, unknown>);
        const before = touched;
        const error = await ecp.propose(input as ProposalInput).then(
          () => null,
          (e: unknown) => e,
        );
        if (touched > before) {
          // It reached Temporal only because it was valid: the trap's error, nothing else.
          expect((error as Error).message).toBe('Temporal was called');
          expect(() => parseProposal(input)).not.toThrow();
          expect(config.validateParameters(parseProposal(input))).toBeNull();
        } else {
          expect(error).toBeInstanceOf(EcpError);
          expect((error as EcpError).field, (error as Error).message).toBeTruthy();
        }
      }),
      { numRuns: 300, seed: 8 },
    );
  });
});
