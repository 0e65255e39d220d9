import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf } from '../common/canonical';
import type { PolicyBundle } from '../policy/bundle';
import { packPolicyBundleSchema, type PackPolicyBundle } from './pack/schema';

/**
 * Content-addressed store of every policy bundle version a plane has loaded: `<dataDir>/policy-bundles/`. History
 * pins only a bundle's version digest; this keeps the text behind each digest so an evidence pack can be exported
 * after the policies have changed. Files are write-once (same name ⇒ same content) and never deleted by ECP.
 */
export function policyBundleStoreDir(dataDir: string): string {
  return join(dataDir, 'policy-bundles');
}

/** The part of a loaded bundle that an evidence pack carries. */
export function packPolicyBundle(bundle: PolicyBundle): PackPolicyBundle {
  return {
    version: bundle.version,
    schemaText: bundle.schemaText,
    policies: bundle.policies,
    defaultDeadlineSeconds: bundle.defaultDeadlineSeconds,
  };
}

const fileName = (part: PackPolicyBundle) =>
  `${part.version.replace(/^sha256:/, '')}.${digestOf(part)
    .replace(/^sha256:/, '')
    .slice(0, 16)}.json`;

/** Saves a loaded bundle (idempotent). Written to a temp file and renamed, so a reader never sees half a file. */
export function storePolicyBundle(dataDir: string, bundle: PolicyBundle): string {
  const dir = policyBundleStoreDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const part = packPolicyBundle(bundle);
  const path = join(dir, fileName(part));
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(part, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

/**
 * Every stored bundle with this version digest whose content still hashes to it (a damaged file is skipped). Usually
 * one; more only when the same policies were loaded with different default deadlines.
 */
export function findStoredPolicyBundles(dataDir: string, version: string): PackPolicyBundle[] {
  const prefix = `${version.replace(/^sha256:/, '')}.`;
  let names: string[];
  try {
    names = readdirSync(policyBundleStoreDir(dataDir)).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
  } catch {
    return [];
  }
  const found: PackPolicyBundle[] = [];
  for (const name of names.sort()) {
    try {
      const part = packPolicyBundleSchema.parse(JSON.parse(readFileSync(join(policyBundleStoreDir(dataDir), name), 'utf8')));
      if (digestOf({ schema: part.schemaText, policies: part.policies }) === version) found.push(part);
    } catch {
      // Not a bundle we can trust: ignore it; export fails with a clear message if nothing else has the version.
    }
  }
  return found;
}
