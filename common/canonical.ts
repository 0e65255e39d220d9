import canonicalize from 'canonicalize';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { configure } from 'safe-stable-stringify';

// Sorted keys, JSON.stringify's escaping and number form: for plain JSON (finite numbers, well-formed strings, no
// cycles) exactly RFC 8785's text, about 2.5× faster than `canonicalize`. Anything it cannot represent throws.
const sortedJson = configure({ deterministic: true, strict: true, circularValue: Error });

/**
 * RFC 8785 (JCS) canonical JSON text of a plain-JSON value. The fast path is taken only where it is exactly the
 * `canonicalize` package's text; whatever it throws on (NaN, Infinity, cycles, functions…) and text that may hold a
 * lone surrogate (which JSON.stringify escapes and RFC 8785 refuses) go to `canonicalize`, so results and errors are
 * that package's for every input (test/unit/canonical.test.ts checks both on random values).
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = sortedJson(value);
  } catch {
    text = undefined;
  }
  // JSON.stringify writes a lone surrogate as the escape \udXXX; a paired one stays raw. Rare: the slow path decides.
  if (text === undefined || text.includes('\\ud')) text = canonicalize(value);
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
