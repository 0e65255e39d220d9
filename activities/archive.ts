import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import { EcpClient } from '../client/ecpClient';
import type { Archive } from '../audit/archive/archive';
import type { PlaneRuntime } from '../config/runtime';
import type { KeptStore } from '../audit/store/kept';
import { sealClosedSince, type SealWindowInput, type SealWindowResult } from '../audit/archive/sealer';

export type SealClosedAttemptsInput = SealWindowInput;

/** A pass's result, bounded so that a large backlog does not bloat the archiver's history. */
export interface SealClosedAttemptsResult extends Omit<SealWindowResult, 'sealed' | 'skipped' | 'failed'> {
  sealed: number;
  skipped: number;
  failed: number;
  /** Up to REPORTED of each, for the archiver's status query and logs. */
  sealedIds: string[];
  skippedSample: SealWindowResult['skipped'];
  failedSample: SealWindowResult['failed'];
}

const REPORTED = 20;

/** Where this worker seals evidence packs, and where the policy bundles that help export them are kept. */
export interface ArchiveBinding {
  archive: Archive;
  dataDir: string;
  /** The plane's kept versions (e.g. the shared store every worker uses); without it, `dataDir`'s. */
  kept?: KeptStore;
}

/**
 * Archive activities, bound to the worker's archive (null when archiving is disabled on this worker) and runtime (its
 * configured policy bundle is offered to the pack exporter).
 */
export function createArchiveActivities(runtime: PlaneRuntime, binding: ArchiveBinding | null) {
  return {
    /**
     * Seals the evidence pack of every attempt closed since the watermark (minus the overlap) into the archive, oldest
     * first, within `budgetMs`; heartbeats after each attempt. Idempotent: an archived attempt is skipped by an index
     * lookup, and concurrent sealers cannot fork the chain, so a retry (or a second worker running the same pass)
     * is safe. Uses the worker's own Temporal client (visibility + history). On a worker without an archive it fails
     * retryably, so a worker that has one can pick the task up.
     */
    async sealClosedAttempts(input: SealClosedAttemptsInput): Promise<SealClosedAttemptsResult> {
      if (!binding) {
        throw ApplicationFailure.retryable(
          'archiving is disabled on this worker (ECP_ARCHIVE=off); another worker with an archive must run the archiver',
          FailureType.ArchiveDisabled,
        );
      }
      const ctx = Context.current();
      const ecp = new EcpClient(ctx.client, runtime.config);
      const result = await sealClosedSince(binding.archive, ecp, input, { dataDir: binding.dataDir, kept: binding.kept }, (done) =>
        ctx.heartbeat(done),
      );
      return {
        watermark: result.watermark,
        already: result.already,
        more: result.more,
        sealed: result.sealed.length,
        skipped: result.skipped.length,
        failed: result.failed.length,
        sealedIds: result.sealed.slice(-REPORTED),
        skippedSample: result.skipped.slice(-REPORTED),
        failedSample: result.failed.slice(0, REPORTED),
      };
    },
  };
}
