import { EcpError } from '../../common/errors';
import type { EcpClient } from '../../client/ecpClient';
import type { CliContext } from '../context';

// Where the audit commands read attempts from (the archive, Temporal), shared by auditArchive.ts, auditList.ts and
// auditBacktest.ts; apart from them so those files do not import each other in a cycle.

/** The archive a command works on: --archive, else ECP_ARCHIVE_DIR, else `<data-dir>/archive`. */
export async function archiveFor(ctx: CliContext, explicit: string | undefined) {
  const { Archive } = await import('../../audit/archive/archive');
  const { archiveSettingsFromEnv } = await import('../../audit/archive/archiverControl');
  const { resolve } = await import('node:path');
  return Archive.local(explicit ? resolve(explicit) : archiveSettingsFromEnv(ctx.dataDir).dir);
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
