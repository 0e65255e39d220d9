import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decisionSigningBytes,
  EcpError,
  humanIdSchema,
  keyFingerprint,
  parseOrThrow,
  type DecisionStatement,
  type SignedDecision,
} from '../common';

/** Raw Ed25519 public key as 64 hex characters — the form the directory stores. */
export function publicKeyHex(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('hex');
}

/** Where `<keysDir>/<human>.key` lives; the human ID is validated first so it cannot name another path. */
export function keyPath(keysDir: string, human: string): string {
  parseOrThrow(humanIdSchema, human, 'human id');
  return join(keysDir, `${human}.key`);
}

/** Creates `<keysDir>/<human>.key` (PKCS#8 PEM, mode 0600). Refuses to overwrite unless `force`. */
export function createHumanKey(keysDir: string, human: string, force = false): { path: string; publicKey: string } {
  const path = keyPath(keysDir, human);
  if (existsSync(path) && !force) {
    throw new EcpError(
      'conflict',
      `${path} already exists; pass --force to replace it (the old key stops working once the directory is updated)`,
    );
  }
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return { path, publicKey: publicKeyHex(privateKey) };
}

/** Loads a human's Ed25519 private key; a missing or non-Ed25519 file is an `EcpError` saying what to do. */
export function loadHumanKey(keysDir: string, human: string): KeyObject {
  const path = keyPath(keysDir, human);
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch {
    throw new EcpError('not_found', `no private key for "${human}" at ${path} (create one with \`ecp keys new ${human}\`)`);
  }
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new EcpError('invalid_input', `${path} is not an Ed25519 private key`);
  return key;
}

/**
 * Signs a decision statement the way the workflow verifies it (domain prefix + RFC 8785 canonical JSON) and names the
 * signing key by its fingerprint, so the workflow checks exactly one key.
 */
export function signDecision(statement: DecisionStatement, privateKey: KeyObject): SignedDecision {
  const signature = sign(null, decisionSigningBytes(statement), privateKey).toString('hex');
  return { statement, signature, key: keyFingerprint(publicKeyHex(privateKey)) };
}
