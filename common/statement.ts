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
