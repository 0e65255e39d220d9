import { join } from 'node:path';
import { z } from 'zod';
import { digestOf } from '../common/canonical';
import { directorySchema, type Directory } from '../common/directory';
import { bundleDigestFromBuildId } from './history';
import { keepFile, listFiles, type KeptDocument, type KeptStore } from './store/kept';

/**
 * The plane's own trust root for evidence packs, kept beside the policy bundles (in its data dir by default, or in the
 * shared store, audit/store/):
 * - `directories/<hex>.json` — every directory version the plane has loaded (start and each reload), named by its
 *   version digest (`digestOf(directory)`, what attempts pin), so a pack stays verifiable after keys rotate;
 * - `code-identities/<hex>.json` — every workflow code identity (worker build ID) the plane has run.
 * Documents are write-once (same name ⇒ same content) and never deleted by ECP; one whose content does not hash to
 * its name is ignored when loading (it cannot widen the trust root).
 */
export function directoryStoreDir(dataDir: string): string {
  return join(dataDir, 'directories');
}

/** Where the plane keeps the workflow code identities it has run. */
export function codeIdentityStoreDir(dataDir: string): string {
  return join(dataDir, 'code-identities');
}

const hexOf = (digest: string) => digest.replace(/^sha256:/, '');
const textOf = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function directoryDocument(directory: Directory): KeptDocument {
  return { name: `${hexOf(digestOf(directory))}.json`, text: textOf(directory) };
}

function codeIdentityDocument(buildId: string): KeptDocument | null {
  const digest = bundleDigestFromBuildId(buildId);
  return digest ? { name: `${hexOf(digest)}.json`, text: textOf({ buildId, workflowBundleDigest: digest }) } : null;
}

/** Keeps a loaded directory in a data dir under its version digest (idempotent). Returns the file written. */
export function storeDirectoryVersion(dataDir: string, directory: Directory): string {
  const doc = directoryDocument(directory);
  return keepFile(directoryStoreDir(dataDir), doc.name, doc.text);
}

/** Keeps a loaded directory in a store under its version digest (idempotent, safe to retry). */
export async function keepDirectoryVersion(store: KeptStore, directory: Directory): Promise<void> {
  const doc = directoryDocument(directory);
  await store.keep('directories', doc.name, doc.text);
}

/** Every directory version kept in a data dir whose content still hashes to its name, by version digest. */
export function loadDirectoryVersions(dataDir: string): Map<string, Directory> {
  return trustedDirectories(listFiles(directoryStoreDir(dataDir)));
}

/** `loadDirectoryVersions` over any store. */
export async function keptDirectoryVersions(store: KeptStore): Promise<Map<string, Directory>> {
  return trustedDirectories(await store.list('directories'));
}

function trustedDirectories(documents: KeptDocument[]): Map<string, Directory> {
  const found = new Map<string, Directory>();
  for (const { name, text } of documents) {
    try {
      const directory = directorySchema.parse(JSON.parse(text));
      const version = digestOf(directory);
      if (`${hexOf(version)}.json` === name) found.set(version, directory);
    } catch {
      // Damaged or foreign: not trusted (verification then names the version as untrusted, failing closed).
    }
  }
  return found;
}

const codeIdentitySchema = z.strictObject({ buildId: z.string().min(1), workflowBundleDigest: z.string() });

/** Keeps the worker build ID the plane runs with in a data dir (idempotent); a build ID without a code digest is not kept. */
export function storeCodeIdentity(dataDir: string, buildId: string): string | null {
  const doc = codeIdentityDocument(buildId);
  return doc ? keepFile(codeIdentityStoreDir(dataDir), doc.name, doc.text) : null;
}

/** Keeps the worker build ID in a store (idempotent); false when the build ID names no code digest. */
export async function keepCodeIdentity(store: KeptStore, buildId: string): Promise<boolean> {
  const doc = codeIdentityDocument(buildId);
  if (doc) await store.keep('code-identities', doc.name, doc.text);
  return doc !== null;
}

/** Every workflow code digest kept in a data dir whose file is consistent with its name. */
export function loadCodeIdentities(dataDir: string): Set<string> {
  return trustedCodeIdentities(listFiles(codeIdentityStoreDir(dataDir)));
}

/** `loadCodeIdentities` over any store. */
export async function keptCodeIdentities(store: KeptStore): Promise<Set<string>> {
  return trustedCodeIdentities(await store.list('code-identities'));
}

function trustedCodeIdentities(documents: KeptDocument[]): Set<string> {
  const found = new Set<string>();
  for (const { name, text } of documents) {
    if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
    try {
      const kept = codeIdentitySchema.parse(JSON.parse(text));
      const digest = bundleDigestFromBuildId(kept.buildId);
      if (digest && digest === kept.workflowBundleDigest && `${hexOf(digest)}.json` === name) found.add(digest);
    } catch {
      // Not a code identity we can trust: ignored.
    }
  }
  return found;
}
