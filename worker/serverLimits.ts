import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { SERVER_LIMITS, SERVER_LIMIT_SETTINGS } from '../common';

/** `temporal server start-dev` arguments that set ECP's record protection (see `SERVER_LIMITS`). */
export function serverLimitArgs(): string[] {
  return Object.entries(SERVER_LIMIT_SETTINGS).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);
}

const PROBE_TASK_QUEUE = 'ecp-limits-probe';

/**
 * Checks that the server enforces ECP's record protection, by probing: a workflow that no worker runs (task queue
 * `ecp-limits-probe`, type `ecpLimitsProbe`, one minute at most, terminated at once) is sent one signal just over the
 * payload limit, then small signals until the server refuses one. Temporal has no API to read dynamic config, so
 * this is the only way to know. Returns what is missing, each with the setting that fixes it; empty when protected.
 * Costs ≈ 70 small RPCs; runs once per worker start.
 */
export async function missingServerLimits(client: Client): Promise<string[]> {
  const handle = await client.workflow.start('ecpLimitsProbe', {
    taskQueue: PROBE_TASK_QUEUE,
    workflowId: `ecp-limits-probe-${randomUUID()}`,
    workflowExecutionTimeout: '1 minute',
  });
  const missing: string[] = [];
  try {
    let oversizedAccepted = false;
    try {
      await handle.signal('probe', 'x'.repeat(SERVER_LIMITS.blobBytes + 1024));
      oversizedAccepted = true;
    } catch {
      // Refused: the payload limit is in force.
    }
    if (oversizedAccepted) {
      missing.push(`payloads over ${SERVER_LIMITS.blobBytes} bytes are accepted (set limit.blobSize.error=${SERVER_LIMITS.blobBytes})`);
    }
    let accepted = oversizedAccepted ? 1 : 0;
    while (accepted <= SERVER_LIMITS.signalsPerAttempt) {
      try {
        await handle.signal('probe', accepted);
        accepted++;
      } catch {
        break;
      }
    }
    if (accepted > SERVER_LIMITS.signalsPerAttempt) {
      missing.push(
        `more than ${SERVER_LIMITS.signalsPerAttempt} signals per execution are accepted (set history.maximumSignalsPerExecution=${SERVER_LIMITS.signalsPerAttempt})`,
      );
    }
  } finally {
    await handle.terminate('ECP limits probe done').catch(() => {});
  }
  return missing;
}
