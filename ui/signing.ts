/// <reference lib="dom" />
/**
 * In-browser signing. The human's PKCS#8 Ed25519 key (the file `ecp keys new` writes) is imported with WebCrypto as
 * a NON-extractable CryptoKey and kept only in this page's memory: it is never sent anywhere, never stored, and is
 * forgotten on sign-out or reload. The bytes signed are exactly `common/statement.ts`'s `decisionSigningBytes` — the
 * same code the workflow and `ecp audit verify` use to verify.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { DecisionStatement, SignedDecision } from '../common/decision';
import { decisionSigningBytes, keyFingerprint } from '../common/statement';
import { freezeSigningBytes, type FreezeStatementShape } from '../common/freezeStatement';
import type { SignedFreezeBody } from './api';

export interface LoadedKey {
  human: string;
  key: CryptoKey;
  /** Fingerprint of the registered public key this private key matches. */
  fingerprint: string;
}

let loaded: LoadedKey | null = null;
export const currentKey = () => loaded;
export const forgetKey = () => (loaded = null);

ed.hashes.sha512 = sha512; // as common/signature.ts does, for synchronous verify

const KEY_CHECK_PREFIX = 'ecp.console.key-check:'; // never a decision: different domain prefix

function pemToDer(pem: string): Uint8Array {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(pem);
  if (!match)
    throw new Error('not a PKCS#8 PEM private key (expected "-----BEGIN PRIVATE KEY-----"); use the .key file `ecp keys new` wrote');
  const bin = atob(match[1]!.replace(/\s+/g, ''));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

const toHex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * Imports the key and proves it belongs to `human`: signs a random probe and checks it against the human's registered
 * public keys. A key registered to nobody (or to someone else) is refused here, before any decision is signed.
 */
export async function importKey(pem: string, human: string, publicKeys: string[]): Promise<LoadedKey> {
  if (!globalThis.crypto?.subtle) throw new Error('this browser has no WebCrypto (use https or localhost)');
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('pkcs8', pemToDer(pem) as BufferSource, { name: 'Ed25519' }, false, ['sign']);
  } catch (err) {
    throw new Error(`cannot import the key as Ed25519 (${(err as Error).message}); this browser may lack WebCrypto Ed25519`);
  }
  const probe = utf8ToBytes(KEY_CHECK_PREFIX + toHex(crypto.getRandomValues(new Uint8Array(16)).buffer as ArrayBuffer));
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key, probe as BufferSource));
  const match = publicKeys.find((pub) => ed.verify(signature, probe, hexToBytes(pub)));
  if (!match) throw new Error(`this key is not registered to ${human} in the directory; choose ${human}'s own key file`);
  loaded = { human, key, fingerprint: keyFingerprint(match) };
  return loaded;
}

/** Signs a decision statement with the loaded key. */
export async function signStatement(statement: DecisionStatement): Promise<SignedDecision> {
  if (!loaded || loaded.human !== statement.human) throw new Error('load your signing key first');
  const signature = await crypto.subtle.sign({ name: 'Ed25519' }, loaded.key, decisionSigningBytes(statement) as BufferSource);
  return { statement, signature: toHex(signature), key: loaded.fingerprint };
}

/**
 * Signs a freeze or unfreeze with the loaded key: a fresh random nonce and the current time are added here, so each
 * statement is unique (the controls workflow takes a nonce once and refuses a statement more than 5 minutes old).
 */
export async function signFreezeStatement(
  input: Pick<FreezeStatementShape, 'op' | 'scope' | 'reason' | 'human'>,
): Promise<SignedFreezeBody> {
  if (!loaded || loaded.human !== input.human) throw new Error('load your signing key first');
  const statement: FreezeStatementShape = {
    kind: 'ecp.freeze',
    ...input,
    at: new Date().toISOString(),
    nonce: toHex(crypto.getRandomValues(new Uint8Array(16)).buffer as ArrayBuffer),
  };
  const signature = await crypto.subtle.sign({ name: 'Ed25519' }, loaded.key, freezeSigningBytes(statement) as BufferSource);
  return { statement, signature: toHex(signature), key: loaded.fingerprint };
}
