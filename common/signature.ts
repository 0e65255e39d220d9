// Verifying a signed decision, apart from its schema (decision.ts): statement.ts (the signed bytes) needs the schema's
// types, and this needs statement.ts, so keeping them in one file made an import cycle.
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import type { SignedDecision } from './decision';
import { decisionSigningBytes } from './statement';

// Pure-JS SHA-512 so Ed25519 verification runs inside the workflow sandbox.
ed.hashes.sha512 = sha512;

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
