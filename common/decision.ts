import { z } from 'zod';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { digestSchema, humanIdSchema } from './proposal';
import { decisionSigningBytes } from './statement';

// Pure-JS SHA-512 so Ed25519 verification runs inside the workflow sandbox.
ed.hashes.sha512 = sha512;

export const verdictSchema = z.enum(['approve', 'reject']);
export type Verdict = z.infer<typeof verdictSchema>;

/**
 * What a human signs. It names the attempt and the proposal hash, so a signature cannot be replayed on another
 * attempt or on edited arguments.
 */
export const decisionStatementSchema = z.strictObject({
  v: z.literal(1),
  attemptId: z.string().min(1).max(100),
  proposalHash: digestSchema,
  verdict: verdictSchema,
  human: humanIdSchema,
  reason: z.string().max(2000, 'must be at most 2000 characters').default(''),
  decidedAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }),
});
export type DecisionStatement = z.output<typeof decisionStatementSchema>;

/**
 * The payload of the `decision` signal and the `decide` update. `key` names the signing key by its fingerprint (not
 * signed: it only lets the workflow refuse a key that is not registered without checking any signature). Attempts
 * started by this version require it; attempts started before it accept decisions without it.
 */
export const signedDecisionSchema = z.strictObject({
  statement: decisionStatementSchema,
  signature: z.string().regex(/^[0-9a-f]{128}$/, 'must be an Ed25519 signature: 128 lower-case hex characters'),
  key: z
    .string()
    .regex(/^[0-9a-f]{16}$/, 'must be the signing key\'s fingerprint: 16 lower-case hex characters')
    .optional(),
});
export type SignedDecision = z.output<typeof signedDecisionSchema>;

export { decisionSigningBytes, keyFingerprint } from './statement';

/**
 * Returns the registered key that verifies the signature, or null. Never throws on malformed input. Each key tried
 * costs one Ed25519 verification, so callers narrow `publicKeys` first (see `screenDecision`).
 */
export function findSigningKey(decision: SignedDecision, publicKeys: readonly string[]): string | null {
  const message = decisionSigningBytes(decision.statement);
  let signature: Uint8Array;
  try {
    signature = hexToBytes(decision.signature);
  } catch {
    return null;
  }
  for (const key of publicKeys) {
    try {
      if (ed.verify(signature, message, hexToBytes(key))) return key;
    } catch {
      // A malformed key or signature simply does not verify.
    }
  }
  return null;
}
