import { WorkflowFailedError } from '@temporalio/client';
import type { EcpClient } from '../client/ecpClient';
import type { AttemptRecord } from '../common/record';
import { TERMINAL_STATUSES } from '../common/status';
import { parseRecordView, type RecordView } from './recordView';

/** How a held call waits. */
export interface HoldOptions {
  /** Longest the call is held open (ms); then the caller answers "pending". */
  holdMs: number;
  /** Progress interval (ms). */
  progressMs: number;
  /** The request's signal: the client cancelled (`notifications/cancelled`) or went away. */
  signal: AbortSignal;
  /** Called every `progressMs` with the latest known state, while the attempt is open. */
  onProgress?: (record: AttemptRecord | null) => Promise<void>;
}

/**
 * What a hold ends with: the closed attempt's record as the gateway reads it (`RecordView`), or the last known open
 * state (null if none could be read).
 */
export type HoldEnd = { closed: true; record: RecordView } | { closed: false; record: AttemptRecord | null };

/**
 * Waits for the attempt to close, up to `holdMs` or until `signal` aborts, reporting progress meanwhile. The close is
 * awaited with Temporal's long-poll for the workflow result, under an AbortSignal, so an ended hold leaves no poll
 * behind. Needs no worker to wait (a worker killed mid-hold only delays the state shown in progress). The attempt
 * itself is never touched: ending a hold, or a cancelled request, leaves it to go on. The closed attempt's result is
 * parsed as a `RecordView` (only what the answer reads).
 */
export async function holdForOutcome(ecp: EcpClient, attemptId: string, options: HoldOptions): Promise<HoldEnd> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  let latest: AttemptRecord | null = null;
  let refreshing: Promise<void> | null = null;
  // Set when the hold is over: a progress tick still running then schedules no further one.
  let over = false;
  // One record query at a time; a failure (no worker answering) keeps the last known state.
  const refresh = () =>
    (refreshing ??= ecp
      .getRecord(attemptId)
      .then((r) => void (latest = r))
      .catch(() => {})
      .finally(() => (refreshing = null)));
  const timers: NodeJS.Timeout[] = [];
  try {
    const closed = ecp.client
      .withAbortSignal(stop.signal, () => ecp.client.workflow.getHandle(attemptId).result())
      .then((r) => ({ closed: true as const, record: parseRecordView(r, `record of ${attemptId}`) }))
      .catch((err: unknown) => {
        if (stop.signal.aborted) return null;
        throw err;
      });
    const ended = new Promise<null>((resolve) => {
      timers.push(setTimeout(() => resolve(null), options.holdMs));
      stop.signal.addEventListener('abort', () => resolve(null), { once: true });
    });
    if (options.onProgress) {
      void refresh();
      const tick = async () => {
        if (over || stop.signal.aborted) return;
        void refresh();
        await options.onProgress!(latest).catch(() => {});
        if (!over && !stop.signal.aborted) timers.push(setTimeout(() => void tick(), options.progressMs));
      };
      timers.push(setTimeout(() => void tick(), options.progressMs));
    }
    const first = await Promise.race([closed, ended]);
    // Closed: the long poll is done, so nothing is left to abort (aborting would only dispatch to the listeners every
    // finished gRPC call of it left on the signal, and build a DOMException: a measurable part of each answer).
    if (first) return first;
    stop.abort();
    // A closed attempt may have closed just now; otherwise report the freshest open state.
    await refresh();
    const now = latest as AttemptRecord | null;
    if (now && TERMINAL_STATUSES.includes(now.status)) return { closed: true, record: now };
    return { closed: false, record: now };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      throw new Error(`attempt ${attemptId} failed as a workflow: ${err.cause?.message ?? err.message}`);
    }
    throw err;
  } finally {
    over = true;
    for (const t of timers) clearTimeout(t);
    options.signal.removeEventListener('abort', onAbort);
  }
}
