/**
 * Ed25519 decision signatures checked with node:crypto (OpenSSL) instead of the pure-JS verifier the workflow sandbox
 * needs: the same statement bytes (common/statement.ts), roughly 20× faster per signature. OpenSSL verifies by RFC 8032
 * (canonical encodings, cofactorless equation); the plane's noble verifier uses the more permissive ZIP-215 rules, so
 * every signature accepted here is also accepted by the plane — an exotic signature the plane took and OpenSSL refuses
 * fails verification (closed), never the other way round.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { DecisionStatement } from '../../common/decision';
import { decisionSigningBytes } from '../../common/statement';

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 raw key bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const RAW_KEY = /^[0-9a-f]{64}$/;
const SIGNATURE = /^[0-9a-f]{128}$/;

const keys = new Map<string, KeyObject | null>();
const KEYS_KEPT = 4096;

/** The KeyObject for a hex-encoded raw public key (cached: a directory has few keys), or null if it is not one. */
function publicKeyObject(hex: string): KeyObject | null {
  const cached = keys.get(hex);
  if (cached !== undefined) return cached;
  let key: KeyObject | null = null;
  if (RAW_KEY.test(hex)) {
    try {
      key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
    } catch {
      key = null; // not a point on the curve
    }
  }
  if (keys.size >= KEYS_KEPT) keys.delete(keys.keys().next().value!);
  keys.set(hex, key);
  return key;
}

/**
 * The registered key (hex, as the directory lists it) whose Ed25519 signature over the statement verifies, or null.
 * Same contract as common/signature.ts `findSigningKey`: never throws on malformed input.
 */
export function findSigningKeyNode(statement: DecisionStatement, signatureHex: string, publicKeys: readonly string[]): string | null {
  if (typeof signatureHex !== 'string' || !SIGNATURE.test(signatureHex)) return null;
  const message = decisionSigningBytes(statement);
  const signature = Buffer.from(signatureHex, 'hex');
  for (const hex of publicKeys) {
    const key = typeof hex === 'string' ? publicKeyObject(hex) : null;
    if (!key) continue;
    try {
      if (verify(null, message, key, signature)) return hex;
    } catch {
      // A malformed key or signature simply does not verify.
    }
  }
  return null;
}
