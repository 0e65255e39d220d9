/**
 * Digests for offline verification, computed with node:crypto: the same value as common/canonical.ts `digestOf`
 * (`sha256:` + SHA-256 of the UTF-8 RFC 8785 canonical JSON), without the pure-JS hash the workflow sandbox needs.
 * Returns the canonical text too, so a verifier canonicalises each part once and compares texts instead of
 * re-canonicalising.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../common/canonical';

/** `sha256:<hex>` of a canonical JSON text (hashed as UTF-8, like `digestOf`). */
export function digestOfCanonical(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/** A value's canonical JSON text and its digest (equal to `digestOf(value)`). */
export function canonicalDigest(value: unknown): { text: string; digest: string } {
  const text = canonicalJson(value);
  return { text, digest: digestOfCanonical(text) };
}

/** `digestOf(value)`, computed with node:crypto. */
export function fastDigestOf(value: unknown): string {
  return digestOfCanonical(canonicalJson(value));
}
