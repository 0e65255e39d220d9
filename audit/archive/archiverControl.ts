import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { TASK_QUEUE } from '../../common/constants';
import { EcpError } from '../../common/errors';
import {
  ARCHIVER_WORKFLOW_ID,
  ARCHIVER_WORKFLOW_TYPE,
  archiveNowSignal,
  archiverStatusQuery,
  type ArchiverInput,
  type ArchiverStatus,
} from '../../workflows/archiver';
import { defaultArchiveDir } from './archive';

export interface ArchiveSettings {
  enabled: boolean;
  dir: string;
  intervalSeconds: number;
}

/**
 * Archive settings of a plane: ECP_ARCHIVE=off disables it (the worker neither starts the archiver nor seals),
 * ECP_ARCHIVE_DIR moves it (default `<dataDir>/archive`), ECP_ARCHIVE_INTERVAL_SECONDS sets the pause between passes.
 */
export function archiveSettingsFromEnv(dataDir: string, env: NodeJS.ProcessEnv = process.env): ArchiveSettings {
  const flag = (env.ECP_ARCHIVE ?? 'on').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(flag)) {
    throw new EcpError('config_invalid', `ECP_ARCHIVE must be "on" or "off", not "${env.ECP_ARCHIVE}"`, 'ECP_ARCHIVE');
  }
  const interval = Number(env.ECP_ARCHIVE_INTERVAL_SECONDS ?? 30);
  if (!Number.isInteger(interval) || interval < 1) {
    throw new EcpError(
      'config_invalid',
      `ECP_ARCHIVE_INTERVAL_SECONDS must be a positive whole number, not "${env.ECP_ARCHIVE_INTERVAL_SECONDS}"`,
      'ECP_ARCHIVE_INTERVAL_SECONDS',
    );
  }
  return {
    enabled: ['on', 'true', '1'].includes(flag),
    dir: env.ECP_ARCHIVE_DIR ? resolve(env.ECP_ARCHIVE_DIR) : defaultArchiveDir(dataDir),
    intervalSeconds: interval,
  };
}

/**
 * Starts the singleton archiver workflow unless it already runs (then it is left as it is). Returns whether this
 * call started it. Safe to call from every plane at startup.
 */
export async function ensureArchiver(client: Client, input: ArchiverInput = {}): Promise<boolean> {
  const requestId = randomUUID();
  try {
    const handle = await client.workflow.start(ARCHIVER_WORKFLOW_TYPE, {
      workflowId: ARCHIVER_WORKFLOW_ID,
      taskQueue: TASK_QUEUE,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      memo: { requestId },
    });
    // With USE_EXISTING the server returns the running archiver; the memo tells whether this call created it.
    return (await handle.describe()).memo?.requestId === requestId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** Asks the running archiver for an immediate pass. */
export async function wakeArchiver(client: Client): Promise<void> {
  await client.workflow.getHandle(ARCHIVER_WORKFLOW_ID).signal(archiveNowSignal);
}

export async function archiverStatus(client: Client): Promise<ArchiverStatus | null> {
  try {
    const handle = client.workflow.getHandle(ARCHIVER_WORKFLOW_ID);
    const described = await handle.describe();
    if (described.status.name !== 'RUNNING') return null;
    return await handle.query(archiverStatusQuery);
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return null;
    throw err;
  }
}
