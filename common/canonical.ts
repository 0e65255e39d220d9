import canonicalize from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** RFC 8785 (JCS) canonical JSON text of a plain-JSON value. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON representation');
  return text;
}

/** `sha256:<hex>` over the canonical JSON of a value. Pure JS, so workflows can compute it deterministically. */
export function digestOf(value: unknown): string {
  return `sha256:${bytesToHex(sha256(utf8ToBytes(canonicalJson(value))))}`;
}

/** SHA-256 of UTF-8 text as lower-case hex (pure JS: runs in the workflow sandbox and the browser). */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** Size in bytes of a value's canonical JSON, for limits. */
export function canonicalSize(value: unknown): number {
  return utf8ToBytes(canonicalJson(value)).length;
}
