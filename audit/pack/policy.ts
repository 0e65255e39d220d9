import { bundleFromTexts, policyBundleVersion, type PolicyBundle } from '../../policy/bundle';
import type { PackPolicyBundle } from './schema';
import { fastDigestOf } from './verifyDigests';

/** The bundle version a pack's policy part hashes to: the plane's formula (`policyBundleVersion`), hashed with node:crypto. */
export function policyPartVersion(part: PackPolicyBundle): string {
  return policyBundleVersion(part, fastDigestOf);
}

const prepared = new Map<string, PolicyBundle>();
const PREPARED_KEPT = 32;

/**
 * Rebuilds an evaluable bundle from a pack's policy texts (policy id → text) with the plane's own builder
 * (`bundleFromTexts`): strict validation against the schema, approval requirements from annotations. Throws naming
 * the policy that fails. Validation costs a few hundred milliseconds and most packs share a bundle, so recent results
 * are kept (keyed by the digest of the whole part — schema, every policy text, default deadline — recomputed here from
 * the part itself, never taken from the pack's claims, so a changed text never hits a stale entry).
 */
export function bundleFromPack(part: PackPolicyBundle): PolicyBundle {
  const key = fastDigestOf(part);
  const cached = prepared.get(key);
  if (cached) return cached;
  const bundle = bundleFromTexts(
    { schemaText: part.schemaText, policies: part.policies, defaultDeadlineSeconds: part.defaultDeadlineSeconds },
    { dir: '(evidence pack)' },
  );
  if (prepared.size >= PREPARED_KEPT) prepared.delete(prepared.keys().next().value!);
  prepared.set(key, bundle);
  return bundle;
}
