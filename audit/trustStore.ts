import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { digestOf } from '../common/canonical';
import { directorySchema, type Directory } from '../common/directory';
import { bundleDigestFromBuildId } from './history';

/**
 * The plane's own trust root for evidence packs, kept beside the policy bundles in its data dir:
 * - `<dataDir>/directories/<hex>.json` — every directory version the plane has loaded (start and each reload), named
 *   by its version digest (`digestOf(directory)`, what attempts pin), so a pack stays verifiable after keys rotate;
 * - `<dataDir>/code-identities/<hex>.json` — every workflow code identity (worker build ID) the plane has run.
 * Files are write-once (same name ⇒ same content) and never deleted by ECP; a file whose content does not hash to its
 * name is ignored when loading (it cannot widen the trust root).
 */
export function directoryStoreDir(dataDir: string): string {
  return join(dataDir, 'directories');
}

/** Where the plane keeps the workflow code identities it has run. */
export function codeIdentityStoreDir(dataDir: string): string {
  return join(dataDir, 'code-identities');
}

const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

/** Written to a temp file and renamed, so a reader never sees half a file. */
function writeAtomically(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, path);
}

/** Keeps a loaded directory under its version digest (idempotent). Returns the file written. */
export function storeDirectoryVersion(dataDir: string, directory: Directory): string {
  const dir = directoryStoreDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${hexOf(digestOf(directory))}.json`);
  writeAtomically(path, directory);
  return path;
}

/** Every kept directory version whose content still hashes to its name, by version digest. */
export function loadDirectoryVersions(dataDir: string): Map<string, Directory> {
  const found = new Map<string, Directory>();
  for (const name of listJson(directoryStoreDir(dataDir))) {
    try {
      const directory = directorySchema.parse(JSON.parse(readFileSync(join(directoryStoreDir(dataDir), name), 'utf8')));
      const version = digestOf(directory);
      if (`${hexOf(version)}.json` === name) found.set(version, directory);
    } catch {
      // Damaged or foreign: not trusted (verification then names the version as untrusted, failing closed).
    }
  }
  return found;
}

const codeIdentitySchema = z.strictObject({ buildId: z.string().min(1), workflowBundleDigest: z.string() });

/** Keeps the worker build ID the plane runs with (idempotent); a build ID without a code digest is not kept. */
export function storeCodeIdentity(dataDir: string, buildId: string): string | null {
  const digest = bundleDigestFromBuildId(buildId);
  if (!digest) return null;
  const dir = codeIdentityStoreDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${hexOf(digest)}.json`);
  writeAtomically(path, { buildId, workflowBundleDigest: digest });
  return path;
}

/** Every kept workflow code digest whose file is consistent with its name. */
export function loadCodeIdentities(dataDir: string): Set<string> {
  const found = new Set<string>();
  for (const name of listJson(codeIdentityStoreDir(dataDir))) {
    try {
      const kept = codeIdentitySchema.parse(JSON.parse(readFileSync(join(codeIdentityStoreDir(dataDir), name), 'utf8')));
      const digest = bundleDigestFromBuildId(kept.buildId);
      if (digest && digest === kept.workflowBundleDigest && `${hexOf(digest)}.json` === name) found.add(digest);
    } catch {
      // Not a code identity we can trust: ignored.
    }
  }
  return found;
}

function listJson(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => /^[0-9a-f]{64}\.json$/.test(n))
      .sort();
  } catch {
    return [];
  }
}
