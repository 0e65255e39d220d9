import { utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson, sha256Hex } from './canonical';
import { DECISION_SIGNING_PREFIX } from './constants';
import type { DecisionStatement } from './decision';

// Kept free of zod so the web console's browser bundle can sign with exactly this code and stay small.

/** The exact bytes a human signs: a domain prefix plus the RFC 8785 canonical statement. */
export function decisionSigningBytes(statement: DecisionStatement): Uint8Array {
  return utf8ToBytes(DECISION_SIGNING_PREFIX + canonicalJson(statement));
}

/** Short, stable identifier of a public key, shown in records and the CLI. */
export function keyFingerprint(publicKeyHex: string): string {
  return sha256Hex(publicKeyHex).slice(0, 16);
}

/** What a decision statement is built from; `decisionStatement` adds the version and (by default) the time. */
export interface DecisionStatementInput {
  attemptId: string;
  proposalHash: string;
  verdict: DecisionStatement['verdict'];
  human: string;
  reason?: string;
  /** Override only: the policy ids it overrides. */
  overrides?: readonly string[];
  decidedAt?: Date;
}

/**
 * The one builder of the statement a human signs, used by the CLI (`ecp approve/reject/override/ratify`, through
 * `EcpClient`) and by the console in the browser, so both sign exactly the same shape. Pure: it signs and sends nothing.
 */
export function decisionStatement(input: DecisionStatementInput): DecisionStatement {
  return {
    v: 1,
    attemptId: input.attemptId,
    proposalHash: input.proposalHash,
    verdict: input.verdict,
    human: input.human,
    reason: input.reason ?? '',
    decidedAt: (input.decidedAt ?? new Date()).toISOString(),
    ...(input.overrides ? { overrides: [...input.overrides] } : {}),
  };
}
