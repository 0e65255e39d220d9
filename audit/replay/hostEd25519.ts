/**
 * The replay sandbox's Ed25519 fast path (see ed25519Replay.ts): a host function that says whether OpenSSL verifies a
 * signature, injected as a global of the replay worker's V8 context before the bundle runs. Only `true` is ever acted
 * on (noble decides everything else), and the function returns a boolean for any input, so nothing of the host
 * reaches the sandbox but that answer.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type vm from 'node:vm';
import { ReusableVMWorkflowCreator } from '@temporalio/worker/lib/workflow/reusable-vm.js';

// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 raw key bytes follow it.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map<string, KeyObject | null>();
const KEYS_KEPT = 4096;

function keyObject(raw: Uint8Array): KeyObject | null {
  const hex = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex');
  let key = keys.get(hex);
  if (key !== undefined) return key;
  try {
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
  } catch {
    key = null; // not a point OpenSSL takes: noble decides
  }
  if (keys.size >= KEYS_KEPT) keys.delete(keys.keys().next().value!);
  keys.set(hex, key);
  return key;
}

// Typed arrays made in the sandbox belong to its realm: `instanceof Uint8Array` would be false for them.
const isBytes = (value: unknown): value is Uint8Array =>
  ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]';

/** How many signatures the host function has verified in this thread (what noble did not have to). */
export const hostEd25519Stats = { verified: 0 };

/** Whether OpenSSL verifies the Ed25519 signature (64 bytes) of the message under the raw public key (32 bytes). */
export function opensslVerifiesEd25519(signature: unknown, message: unknown, publicKey: unknown): boolean {
  if (!isBytes(signature) || !isBytes(message) || !isBytes(publicKey)) return false;
  if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return false;
  const key = keyObject(publicKey);
  if (!key) return false;
  let ok = false;
  try {
    ok = verify(null, message, key, signature);
  } catch {
    ok = false;
  }
  if (ok) hostEd25519Stats.verified++;
  return ok;
}

/** The SDK's reusable-context workflow creator, with the Ed25519 host function among the sandbox's globals. */
export class AuditReplayWorkflowCreator extends ReusableVMWorkflowCreator {
  protected override injectGlobals(context: vm.Context): void {
    super.injectGlobals(context);
    Object.defineProperty(context, '__ecpReplayEd25519Verify', {
      value: (signature: unknown, message: unknown, publicKey: unknown) => opensslVerifiesEd25519(signature, message, publicKey),
      writable: false,
      enumerable: false,
      configurable: false,
    });
  }
}
