import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What a plane keeps besides the archive, each under its own name space (a folder of the data dir, or a SQL kind). */
export type KeptKind = 'policy-bundles' | 'directories' | 'code-identities';

/** One kept document: its name (content-derived, see audit/bundleStore.ts and audit/trustStore.ts) and its text. */
export interface KeptDocument {
  name: string;
  text: string;
}

/**
 * Storage of the versions a plane keeps so evidence packs stay exportable and verifiable after a change: policy
 * bundles, directory versions, workflow code identities. Names are derived from the content (same name ⇒ same
 * content), so writes are idempotent and write-once; stores never overwrite or delete. The integrity checks (does
 * the content hash to its name?) live above the store, in bundleStore.ts and trustStore.ts, so a damaged or foreign
 * document is ignored whichever store holds it.
 */
export interface KeptStore {
  /** Where the documents live, for messages (a folder, a database URL without its password). */
  readonly location: string;
  /** Keeps `text` under `name` unless that name is taken. Durable when it resolves; safe to retry. */
  keep(kind: KeptKind, name: string, text: string): Promise<void>;
  /** Every document of `kind` whose name starts with `prefix` (all without one), sorted by name. */
  list(kind: KeptKind, prefix?: string): Promise<KeptDocument[]>;
}

/** The embedded default: `<dataDir>/policy-bundles/`, `<dataDir>/directories/`, `<dataDir>/code-identities/`. */
export class LocalKeptStore implements KeptStore {
  readonly location: string;

  constructor(dataDir: string) {
    this.location = resolve(dataDir);
  }

  /** The folder of one kind. */
  folder(kind: KeptKind): string {
    return join(this.location, kind);
  }

  keep(kind: KeptKind, name: string, text: string): Promise<void> {
    keepFile(this.folder(kind), name, text);
    return Promise.resolve();
  }

  list(kind: KeptKind, prefix = ''): Promise<KeptDocument[]> {
    return Promise.resolve(listFiles(this.folder(kind), prefix));
  }
}

/** Written to a temp file and renamed, so a reader never sees half a file (same name ⇒ same content). */
export function keepFile(dir: string, name: string, text: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
  return path;
}

/** `.json` documents of a folder whose name starts with `prefix`, sorted; a missing folder holds none. */
export function listFiles(dir: string, prefix = ''): KeptDocument[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(prefix) && n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: KeptDocument[] = [];
  for (const name of names.sort()) {
    try {
      out.push({ name, text: readFileSync(join(dir, name), 'utf8') });
    } catch {
      // Vanished or unreadable: not a document we can use (callers fail closed on what is missing).
    }
  }
  return out;
}
