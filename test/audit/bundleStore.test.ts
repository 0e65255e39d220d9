import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findStoredPolicyBundles, packPolicyBundle, policyBundleStoreDir, storePolicyBundle } from '../../audit/bundleStore';
import { bundleFromPack, policyPartVersion } from '../../audit/pack/policy';
import { loadPolicyBundle } from '../../policy/bundle';

const POLICIES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'demo', 'policies');
const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecp-bundles-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('policy bundle store', () => {
  it('keeps each loaded version by digest, write-once, and finds it again', () => {
    const bundle = loadPolicyBundle(POLICIES, { defaultDeadlineSeconds: 3600 });
    const dir = dataDir();
    const path = storePolicyBundle(dir, bundle);
    expect(storePolicyBundle(dir, bundle)).toBe(path);
    expect(readdirSync(policyBundleStoreDir(dir))).toHaveLength(1);
    const [found] = findStoredPolicyBundles(dir, bundle.version);
    expect(found).toEqual(packPolicyBundle(bundle));
    expect(policyPartVersion(found!)).toBe(bundle.version);
    // Rebuilt from the texts, the bundle has the loader's approval requirements.
    expect(bundleFromPack(found!).requirements).toEqual(bundle.requirements);
    expect(findStoredPolicyBundles(dir, 'sha256:' + '0'.repeat(64))).toEqual([]);
  });

  it('ignores a stored file whose texts do not hash to its version', () => {
    const bundle = loadPolicyBundle(POLICIES, { defaultDeadlineSeconds: 3600 });
    const dir = dataDir();
    const path = storePolicyBundle(dir, bundle);
    const part = packPolicyBundle(bundle);
    writeFileSync(path, JSON.stringify({ ...part, policies: { ...part.policies, extra: 'permit (principal, action, resource);' } }));
    expect(findStoredPolicyBundles(dir, bundle.version)).toEqual([]);
  });
});
