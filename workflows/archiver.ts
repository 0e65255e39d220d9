import { condition, continueAsNew, defineQuery, defineSignal, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { PlaneActivities } from '../activities';

/** The archiver is a singleton: one workflow with this ID per namespace, started idempotently by every plane. */
export const ARCHIVER_WORKFLOW_ID = 'ecp-archiver';
export const ARCHIVER_WORKFLOW_TYPE = 'archiver';

export interface ArchiverInput {
  /** Close time up to which every attempt is sealed; null/absent on the very first run (seals all retained). */
  watermark?: string | null;
  /** Pause between passes when there is nothing left to do (default 30). */
  intervalSeconds?: number;
  /** How far behind the watermark each pass re-scans, for visibility lag (default 300). */
  overlapSeconds?: number;
  /** Work per activity call before it reports back (default 120). */
  budgetSeconds?: number;
  /** Carried across continue-as-new. */
  totals?: { sealed: number; skipped: number };
}

export interface ArchiverStatus {
  watermark: string | null;
  passes: number;
  lastPassAt: string | null;
  totals: { sealed: number; skipped: number };
  lastSealed: string[];
  lastSkipped: Array<{ attemptId: string; reason: string }>;
  lastFailed: Array<{ attemptId: string; error: string }>;
}

/** Wakes the archiver for an immediate pass (e.g. after `ecp audit archive`, or from tests). */
export const archiveNowSignal = defineSignal('archiveNow');
export const archiverStatusQuery = defineQuery<ArchiverStatus>('archiverStatus');

// No attempt limit: a pass that fails (Temporal or the archive store unavailable) is retried with backoff until it
// succeeds; the pass itself is idempotent. The heartbeat timeout notices a worker that died mid-pass.
const { sealClosedAttempts } = proxyActivities<PlaneActivities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m' },
});

/** Continue as new well before Temporal's history limits; each pass adds about ten events. */
const MAX_HISTORY_EVENTS = 2000;

/**
 * Seals closed attempts into the evidence archive, forever: each pass (the `sealClosedAttempts` activity) seals every
 * attempt closed since the watermark, then the workflow sleeps `intervalSeconds` (or until `archiveNow`), and
 * continues as new before its history grows large. It never touches attempts' workflows: they are found through
 * visibility, so the attempt workflow's history is unchanged. Query `archiverStatus` for progress.
 */
export async function archiver(input: ArchiverInput = {}): Promise<void> {
  const intervalSeconds = input.intervalSeconds ?? 30;
  const overlapSeconds = input.overlapSeconds ?? 300;
  const budgetMs = (input.budgetSeconds ?? 120) * 1000;
  const status: ArchiverStatus = {
    watermark: input.watermark ?? null,
    passes: 0,
    lastPassAt: null,
    totals: input.totals ?? { sealed: 0, skipped: 0 },
    lastSealed: [],
    lastSkipped: [],
    lastFailed: [],
  };
  let wake = false;
  setHandler(archiveNowSignal, () => {
    wake = true;
  });
  setHandler(archiverStatusQuery, () => status);

  for (;;) {
    wake = false;
    const result = await sealClosedAttempts({ watermark: status.watermark, overlapSeconds, budgetMs });
    status.watermark = result.watermark;
    status.passes++;
    status.lastPassAt = new Date().toISOString();
    status.totals = { sealed: status.totals.sealed + result.sealed, skipped: status.totals.skipped + result.skipped };
    if (result.sealed > 0) status.lastSealed = result.sealedIds;
    if (result.skipped > 0) status.lastSkipped = result.skippedSample;
    status.lastFailed = result.failedSample;
    if (result.failed > 0) log.warn('archiver: some attempts could not be sealed; retrying next pass', { failed: result.failedSample });
    if (result.skipped > 0) log.warn('archiver: some closed attempts cannot be archived', { skipped: result.skippedSample });

    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
      await continueAsNew<typeof archiver>({ ...input, watermark: status.watermark, totals: status.totals });
    }
    if (!result.more) await condition(() => wake, intervalSeconds * 1000);
  }
}
