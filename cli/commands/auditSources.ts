import { EcpError } from '../../common/errors';
import type { EcpClient } from '../../client/ecpClient';
import type { CliContext } from '../context';

// Where the audit commands read attempts from (the archive, Temporal), shared by auditArchive.ts, auditList.ts and
// auditBacktest.ts; apart from them so those files do not import each other in a cycle.

/**
 * The plane's stores as this machine sees them: ECP_STORE_URL's shared store when set, else the data dir (archive in
 * ECP_ARCHIVE_DIR, else `<data-dir>/archive`). Readers and workers open them alike, so both see the same archive.
 */
export async function storesFor(ctx: CliContext) {
  const { openPlaneStores } = await import('../../audit/store/open');
  const { archiveSettingsFromEnv } = await import('../../audit/archive/archiverControl');
  return openPlaneStores({ dataDir: ctx.dataDir, archiveDir: archiveSettingsFromEnv(ctx.dataDir).dir });
}

/**
 * The archive store a command works on: `--archive <dir | postgres://…>`, else the plane's (ECP_STORE_URL, else
 * ECP_ARCHIVE_DIR, else `<data-dir>/archive`).
 */
export async function archiveStoreFor(ctx: CliContext, explicit: string | undefined) {
  if (explicit && /^postgres(ql)?:\/\//.test(explicit)) {
    const { PostgresStore } = await import('../../audit/store/postgres');
    return new PostgresStore(explicit);
  }
  if (explicit) {
    const { LocalDirectoryStore } = await import('../../audit/archive/localStore');
    const { resolve } = await import('node:path');
    return new LocalDirectoryStore(resolve(explicit));
  }
  return (await storesFor(ctx)).archive;
}

/** The archive a command works on (see `archiveStoreFor`). */
export async function archiveFor(ctx: CliContext, explicit: string | undefined) {
  const { Archive } = await import('../../audit/archive/archive');
  return new Archive(await archiveStoreFor(ctx, explicit));
}

/**
 * Connects to Temporal for commands that can also work from the archive alone: on failure (or with `offline`) they
 * go on without it, and say so on stderr.
 */
export async function optionalClient(
  ctx: CliContext,
  offline: boolean | undefined,
): Promise<{ ecp: EcpClient | null; notice: string | null }> {
  if (offline) return { ecp: null, notice: 'offline: using the archive only' };
  try {
    return { ecp: await ctx.client({ withConfig: false }), notice: null };
  } catch (err) {
    if (err instanceof EcpError && err.code === 'connection') {
      return {
        ecp: null,
        notice: `Temporal is not reachable (${err.message.split(':')[0]}); using the archive only — attempts it still retains are missing`,
      };
    }
    throw err;
  }
}
