import { canonicalJson } from './canonical';
import type { JsonValue } from './record';

/** One key of the agent's claims and/or the verified facts, compared as canonical JSON. */
export interface ClaimCheck {
  key: string;
  claimed: boolean;
  claim: JsonValue | null;
  verified: boolean;
  fact: JsonValue | null;
  /** True when the agent claims something that the verified fact contradicts. */
  mismatch: boolean;
}

/**
 * The agent's claims beside the verified facts, one row per key in either, sorted by key. Shared by `ecp show` and
 * the web console so both flag exactly the same mismatches. `facts` is null when no facts were captured.
 */
export function compareClaims(claims: Record<string, JsonValue>, facts: Record<string, JsonValue> | null): ClaimCheck[] {
  const keys = [...new Set([...Object.keys(claims), ...Object.keys(facts ?? {})])].sort();
  return keys.map((key) => {
    const claimed = Object.hasOwn(claims, key);
    const verified = facts !== null && Object.hasOwn(facts, key);
    const claim = claimed ? (claims[key] as JsonValue) : null;
    const fact = verified ? (facts![key] as JsonValue) : null;
    return { key, claimed, claim, verified, fact, mismatch: claimed && verified && canonicalJson(claim) !== canonicalJson(fact) };
  });
}
