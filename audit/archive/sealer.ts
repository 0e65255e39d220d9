import type { Client } from '@temporalio/client';
import { ATTEMPT_TYPE_CLAUSE } from '../../common/constants';
import { EcpError } from '../../common/errors';
import type { EcpClient } from '../../client/ecpClient';
import { exportEvidencePack, type ExportPackOptions } from '../pack/export';
import type { Archive, SealResult } from './archive';

export interface ClosedAttempt {
  attemptId: string;
  closedAt: string;
}

/**
 * Export errors that will not go away by retrying: the attempt cannot be packed (no final record, gone from retention,
 * its policy bundle unknown). Errors of the archive itself (unreadable index, store down) are never in this class:
 * they hold the archiver's watermark instead, so nothing is passed over while the archive is broken.
 */
const UNPACKABLE = new Set(['not_found', 'invalid_input']);

/** Thrown by `sealAttempt` when exporting the pack failed (as opposed to writing it). */
export class ExportFailed extends Error {
  override readonly name = 'ExportFailed';
  constructor(override readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
  }

  get permanent(): boolean {
    return this.cause instanceof EcpError && UNPACKABLE.has(this.cause.code);
  }
}

/** Seals one closed attempt's evidence pack (exported only if it is not archived yet). */
export function sealAttempt(
  archive: Archive,
  ecp: EcpClient,
  attemptId: string,
  exportOptions: ExportPackOptions = {},
): Promise<SealResult> {
  return archive.seal(attemptId, async () => {
    try {
      return await exportEvidencePack(ecp, attemptId, exportOptions);
    } catch (err) {
      throw new ExportFailed(err);
    }
  });
}

/**
 * Closed attempts from Temporal visibility, oldest close first. `since` (inclusive) bounds the close time; null
 * lists every closed attempt still retained. Visibility lists newest first, so the whole window is read before
 * sorting — it is only ids and times.
 */
export async function listClosedAttempts(client: Client, since: string | null): Promise<ClosedAttempt[]> {
  const parts = [ATTEMPT_TYPE_CLAUSE, `ExecutionStatus != "Running"`];
  if (since) parts.push(`CloseTime >= "${new Date(since).toISOString()}"`);
  const out: ClosedAttempt[] = [];
  for await (const info of client.workflow.list({ query: parts.join(' AND ') })) {
    if (info.closeTime) out.push({ attemptId: info.workflowId, closedAt: info.closeTime.toISOString() });
  }
  return out.sort((a, b) => a.closedAt.localeCompare(b.closedAt) || a.attemptId.localeCompare(b.attemptId));
}

export interface SealWindowInput {
  /** Close time up to which everything is known to be sealed; null on the first run (seal all retained). */
  watermark: string | null;
  /** Re-scan this far behind the watermark: visibility can show a closed attempt a little late. */
  overlapSeconds: number;
  /** Stop after this long and report `more` (the caller continues from the returned watermark). */
  budgetMs: number;
}

export interface SealWindowResult {
  watermark: string | null;
  sealed: string[];
  already: number;
  /** Attempts that can never be packed (e.g. no final record); not retried. */
  skipped: Array<{ attemptId: string; reason: string }>;
  /** Attempts whose sealing failed for a reason that may pass; the watermark stays before the first of them. */
  failed: Array<{ attemptId: string; error: string }>;
  more: boolean;
}

/**
 * One archiver pass: seals every attempt closed since `watermark - overlap`, oldest first, until done or out of
 * budget. Idempotent (sealed attempts are skipped by an index lookup), so overlapping windows and retried passes are
 * cheap. The returned watermark never passes an attempt that failed, so a transient failure is retried next pass.
 */
export async function sealClosedSince(
  archive: Archive,
  ecp: EcpClient,
  input: SealWindowInput,
  exportOptions: ExportPackOptions = {},
  onProgress: (done: number) => void = () => {},
): Promise<SealWindowResult> {
  const started = Date.now();
  const since = input.watermark ? new Date(Date.parse(input.watermark) - input.overlapSeconds * 1000).toISOString() : null;
  const closed = await listClosedAttempts(ecp.client, since);
  const result: SealWindowResult = { watermark: input.watermark, sealed: [], already: 0, skipped: [], failed: [], more: false };
  let contiguous = true;
  for (const [i, attempt] of closed.entries()) {
    if (Date.now() - started > input.budgetMs) {
      result.more = true;
      break;
    }
    try {
      const sealed = await sealAttempt(archive, ecp, attempt.attemptId, exportOptions);
      if (sealed.outcome === 'sealed') result.sealed.push(attempt.attemptId);
      else result.already++;
    } catch (err) {
      if (err instanceof ExportFailed && err.permanent) result.skipped.push({ attemptId: attempt.attemptId, reason: err.message });
      else {
        result.failed.push({ attemptId: attempt.attemptId, error: (err as Error).message });
        contiguous = false;
      }
    }
    if (contiguous && (!result.watermark || attempt.closedAt > result.watermark)) result.watermark = attempt.closedAt;
    onProgress(i + 1);
  }
  return result;
}
