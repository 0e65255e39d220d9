import { envSwitchOn } from '../common/envSwitch';

/**
 * Dynamic-config values that remove the dev server's workflow-task stall (docs/performance.md, "The workflow-task
 * stall"). `temporal server start-dev` runs ONE history shard, and each shard's queue readers may read their task
 * queue at most `history.*ProcessorMaxPollRPS` times a second (default 20, burst 20). Every new workflow task — the
 * first one, and the one after each activity — reaches matching through the transfer queue, and each
 * notification costs a read, so attempts run back to back (≈ 10/s, several reads each) empty the bucket and each
 * workflow task then waits for a token: ≈ 40–50 ms between WorkflowTaskScheduled and WorkflowTaskStarted. A cluster
 * with 4 shards has 4 buckets, which is why PostgreSQL "did not stall". The limit protects a shared database from
 * read storms after a restart of many shards; on a one-process dev server with one shard it only adds latency, and
 * readers still read only when notified, so raising it does not make them poll.
 */
export const DEV_SERVER_TUNING: Readonly<Record<string, number>> = {
  /** Workflow and activity tasks to matching, workflow close: the stall itself. */
  'history.transferProcessorMaxPollRPS': 1000,
  /** Visibility (search-attribute upserts, start/close rows): how soon `ecp pending` and the console see a change. */
  'history.visibilityProcessorMaxPollRPS': 1000,
};

/**
 * `temporal server start-dev` arguments setting `DEV_SERVER_TUNING`. `ECP_DEV_SERVER_TUNING=0` leaves Temporal's
 * defaults (to reproduce the stall); `1` or unset applies them; anything else is refused, naming the variable.
 */
export function devServerTuningArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  if (!envSwitchOn(env, 'ECP_DEV_SERVER_TUNING')) return [];
  return Object.entries(DEV_SERVER_TUNING).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${value}`]);
}
