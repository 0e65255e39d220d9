import { WorkflowNotFoundError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { EcpClient } from '../../client/ecpClient';
import type { PlaneConfig } from '../../config/load';
import { EcpError } from '../../common/errors';
import { packPolicyBundle } from '../bundleStore';
import { packFromHistoryJson, type BuildPackOptions } from './build';
import type { EvidencePack } from './schema';

export type ExportPackOptions = Omit<BuildPackOptions, 'dataConverter'>;

/**
 * Exports the evidence pack of a closed attempt: fetches its full history from Temporal and builds the pack from it
 * (payloads as encoded; the client's data converter only decodes the record). The configured policy bundle (from the
 * client's configuration) and the data dir's bundle store are searched for the bundle the attempt pinned.
 * Fails with `not_found` for an unknown attempt and `invalid_input` for one that is still open.
 */
export async function exportEvidencePack(client: EcpClient, attemptId: string, options: ExportPackOptions = {}): Promise<EvidencePack> {
  const handle = client.client.workflow.getHandle(attemptId);
  try {
    const described = await handle.describe();
    if (described.status.name === 'RUNNING') {
      throw new EcpError('invalid_input', `attempt ${attemptId} is still open; evidence packs are for closed attempts`, 'attempt');
    }
    const history = JSON.parse(historyToJSON(await handle.fetchHistory())) as unknown;
    // A client given the plane's whole configuration also offers its policy bundle (the CLI's carries none).
    const config = client.config as Partial<PlaneConfig> | undefined;
    const policyBundles = [...(options.policyBundles ?? []), ...(config?.bundle ? [packPolicyBundle(config.bundle)] : [])];
    return await packFromHistoryJson(history, { ...options, policyBundles, dataConverter: client.client.options.loadedDataConverter });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new EcpError('not_found', `no attempt ${attemptId}`, 'attempt');
    throw err;
  }
}
