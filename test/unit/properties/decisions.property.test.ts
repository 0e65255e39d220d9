import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkDecision,
  EcpError,
  findSigningKey,
  parseOrThrow,
  signedDecisionSchema,
  type DecisionStatement,
  type PinnedDirectory,
  type SignedDecision,
} from '../../../common';
import { publicKeyHex, signDecision } from '../../../client/keys';

const alice = generateKeyPairSync('ed25519').privateKey;
const directory: PinnedDirectory = {
  version: 'sha256:' + '0'.repeat(64),
  agent: { id: 'refund-bot', owner: 'carol', scopes: ['payments:refund'] },
  humans: {
    alice: { groups: ['finance'], publicKeys: [publicKeyHex(alice)] },
    carol: { groups: ['support'], publicKeys: [publicKeyHex(generateKeyPairSync('ed25519').privateKey)] },
  },
};
const ATTEMPT = 'att-' + 'a'.repeat(32);
const HASH = 'sha256:' + 'b'.repeat(64);
const genuine: DecisionStatement = {
  v: 1,
  attemptId: ATTEMPT,
  proposalHash: HASH,
  verdict: 'approve',
  human: 'alice',
  reason: '',
  decidedAt: '2026-11-22T01:00:00.000Z',
};
const check = (decision: SignedDecision) =>
  checkDecision({
    decision,
    attemptId: ATTEMPT,
    proposalHash: HASH,
    status: 'AWAITING_DECISION',
    accepting: true,
    deadlineMs: null,
    nowMs: 0,
    directory,
    requirements: [{ policyId: 'p', groups: ['finance'], quorum: 1, deadlineSeconds: 3600, onExpiry: 'expire' }],
    accepted: [],
  });

/** A statement that is well-formed but possibly different from what alice signed. */
const statement = fc.record({
  v: fc.constant(1 as const),
  attemptId: fc.oneof(fc.constant(ATTEMPT), fc.string({ minLength: 1, maxLength: 100 })),
  proposalHash: fc.oneof(fc.constant(HASH), fc.stringMatching(/^sha256:[0-9a-f]{64}$/)),
  verdict: fc.constantFrom('approve' as const, 'reject' as const),
  human: fc.oneof(fc.constantFrom('alice', 'carol', 'refund-bot', 'mallory'), fc.stringMatching(/^[a-z][a-z0-9]{0,10}$/)),
  reason: fc.string({ maxLength: 50 }),
  decidedAt: fc.constant(genuine.decidedAt),
});

describe('decisions (property-based)', { timeout: 60_000 }, () => {
  it('an arbitrary payload is either a well-formed decision or refused with an EcpError naming the field', () => {
    const payload = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.record({ statement: fc.anything({ maxDepth: 2 }), signature: fc.anything({ maxDepth: 1 }) }),
      fc.record({
        statement: fc.record({
          ...Object.fromEntries(Object.entries(genuine).map(([k, v]) => [k, fc.oneof(fc.constant(v), fc.jsonValue({ maxDepth: 1 }))])),
        }),
        signature: fc.string(),
      }),
    );
    fc.assert(
      fc.property(payload, (input) => {
        try {
          parseOrThrow(signedDecisionSchema, input, 'decision');
        } catch (err) {
          expect(err).toBeInstanceOf(EcpError);
          expect((err as EcpError).code).toBe('invalid_input');
          if ((err as EcpError).field) expect((err as Error).message).toContain(`field "${(err as EcpError).field}"`);
        }
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it('only alice’s own signature over exactly this statement counts; any other statement or signature is refused with a code', () => {
    const signature = fc.oneof(
      fc.stringMatching(/^[0-9a-f]{128}$/),
      fc.constant('00'.repeat(64)),
      fc.constant(signDecision(genuine, alice).signature),
    );
    fc.assert(
      fc.property(statement, signature, fc.boolean(), (st, sig, signForReal) => {
        const decision: SignedDecision = { statement: st, signature: signForReal ? signDecision(st, alice).signature : sig };
        const verdict = check(decision);
        // Ed25519 signatures are deterministic: alice's signature over this exact statement is the only one that verifies.
        const signedByAlice = decision.signature === signDecision(st, alice).signature;
        const legit = signedByAlice && st.human === 'alice' && st.attemptId === ATTEMPT && st.proposalHash === HASH;
        expect(verdict.ok, JSON.stringify({ st, verdict })).toBe(legit);
        if (!verdict.ok) expect(verdict.code).toMatch(/^[a-z_]+$/);
      }),
      { numRuns: 300, seed: 12 },
    );
  });

  it('tampering with any one hex digit of a genuine signature makes it fail to verify, never throw', () => {
    const signed = signDecision(genuine, alice);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 1, max: 15 }), (at, delta) => {
        const digit = ((parseInt(signed.signature[at]!, 16) + delta) % 16).toString(16);
        const tampered = { ...signed, signature: signed.signature.slice(0, at) + digit + signed.signature.slice(at + 1) };
        expect(findSigningKey(tampered, directory.humans.alice!.publicKeys)).toBeNull();
        expect(check(tampered)).toMatchObject({ ok: false, code: 'bad_signature' });
      }),
      { numRuns: 200, seed: 13 },
    );
  });

  it('malformed registered keys never make verification throw', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)), { maxLength: 4 }), (keys) => {
        expect(findSigningKey(signDecision(genuine, alice), keys)).toBeNull();
      }),
      { numRuns: 200, seed: 14 },
    );
  });
});
