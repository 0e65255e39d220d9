import { EcpError } from '../../common/errors';
import { LocalDirectoryStore } from '../archive/localStore';
import type { ArchiveStore } from '../archive/store';
import { LocalKeptStore, type KeptStore } from './kept';
import { PostgresStore } from './postgres';

/** The environment variable that points every worker and reader of a plane at one shared store. */
export const STORE_URL_ENV = 'ECP_STORE_URL';

/**
 * Where a plane keeps its evidence archive and the versions it has run with (policy bundles, directory versions,
 * code identities): its data dir (the embedded default, one machine) or a shared PostgreSQL store (several workers).
 */
export interface PlaneStores {
  /** `local` (data dir) or `postgres` (shared by every worker pointed at it). */
  kind: 'local' | 'postgres';
  /** Where it lives, for messages (no password). */
  location: string;
  archive: ArchiveStore;
  kept: KeptStore;
  /** Connects (and creates the schema) now, so a plane fails at start, not at its first seal; a no-op locally. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The store URL from the environment: unset or empty is null (local stores); `postgres://` / `postgresql://` selects
 * PostgreSQL; anything else is refused, naming the variable (fail closed: a typo must not split the archive).
 */
export function storeUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | null {
  const url = env[STORE_URL_ENV]?.trim();
  if (!url) return null;
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new EcpError(
      'config_invalid',
      `${STORE_URL_ENV} must be a postgres:// or postgresql:// URL (or unset for the data dir)`,
      STORE_URL_ENV,
    );
  return url;
}

/**
 * Opens the plane's stores: PostgreSQL when `url` (or ECP_STORE_URL) is set, else `archiveDir` for the archive and
 * `dataDir` for the kept versions. With a shared store, ECP_ARCHIVE_DIR is refused: the archive would be ambiguous.
 * Opening does not connect; `ready()` (or the first use) does.
 */
export function openPlaneStores(options: {
  dataDir: string;
  archiveDir: string;
  url?: string | null;
  env?: NodeJS.ProcessEnv;
}): PlaneStores {
  const env = options.env ?? process.env;
  const url = options.url === undefined ? storeUrlFromEnv(env) : options.url;
  if (!url) {
    const archive = new LocalDirectoryStore(options.archiveDir);
    return {
      kind: 'local',
      location: `${archive.location} (archive) and ${options.dataDir}`,
      archive,
      kept: new LocalKeptStore(options.dataDir),
      ready: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  if (env.ECP_ARCHIVE_DIR?.trim())
    throw new EcpError(
      'config_invalid',
      `ECP_ARCHIVE_DIR and ${STORE_URL_ENV} are both set: with a shared store the archive is in it; unset ECP_ARCHIVE_DIR`,
      'ECP_ARCHIVE_DIR',
    );
  const store = new PostgresStore(url);
  return {
    kind: 'postgres',
    location: store.location,
    archive: store,
    kept: store,
    ready: () => store.ready(),
    close: () => store.close(),
  };
}
