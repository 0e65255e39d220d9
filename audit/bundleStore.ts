import { join } from 'node:path';
import { digestOf } from '../common/canonical';
import type { PolicyBundle } from '../policy/bundle';
import { packPolicyBundleSchema, type PackPolicyBundle } from './pack/schema';
import { keepFile, listFiles, type KeptDocument, type KeptStore } from './store/kept';

/**
 * Content-addressed store of every policy bundle version a plane has loaded: `<dataDir>/policy-bundles/` by default,
 * or the shared store (`ECP_STORE_URL`, audit/store/). History pins only a bundle's version digest; this keeps the
 * text behind each digest so an evidence pack can be exported after the policies have changed. Documents are
 * write-once (same name ⇒ same content) and never deleted by ECP.
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

const prefixOf = (version: string) => `${version.replace(/^sha256:/, '')}.`;
const textOf = (part: PackPolicyBundle) => `${JSON.stringify(part, null, 2)}\n`;

/** Saves a loaded bundle in a data dir (idempotent). Written to a temp file and renamed, so a reader never sees half a file. */
export function storePolicyBundle(dataDir: string, bundle: PolicyBundle): string {
  const part = packPolicyBundle(bundle);
  return keepFile(policyBundleStoreDir(dataDir), fileName(part), textOf(part));
}

/** Keeps a loaded bundle in a store (idempotent: same name ⇒ same content, so a retry or a second worker is harmless). */
export async function keepPolicyBundle(store: KeptStore, bundle: PolicyBundle): Promise<void> {
  const part = packPolicyBundle(bundle);
  await store.keep('policy-bundles', fileName(part), textOf(part));
}

/**
 * Every bundle in a data dir with this version digest whose content still hashes to it (a damaged file is skipped).
 * Usually one; more only when the same policies were loaded with different default deadlines.
 */
export function findStoredPolicyBundles(dataDir: string, version: string): PackPolicyBundle[] {
  return trustedBundles(listFiles(policyBundleStoreDir(dataDir), prefixOf(version)), version);
}

/** `findStoredPolicyBundles` over any store. */
export async function findKeptPolicyBundles(store: KeptStore, version: string): Promise<PackPolicyBundle[]> {
  return trustedBundles(await store.list('policy-bundles', prefixOf(version)), version);
}

function trustedBundles(documents: KeptDocument[], version: string): PackPolicyBundle[] {
  const found: PackPolicyBundle[] = [];
  for (const { text } of documents) {
    try {
      const part = packPolicyBundleSchema.parse(JSON.parse(text));
      if (digestOf({ schema: part.schemaText, policies: part.policies }) === version) found.push(part);
    } catch {
      // Not a bundle we can trust: ignore it; export fails with a clear message if nothing else has the version.
    }
  }
  return found;
}
