// A replay worker fed one history at a time from a queue, for one batch or for a whole verification thread's life.
import type { HistoryAndWorkflowId } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker, type InjectedSinks } from '@temporalio/worker';
import { idleTelemetrySinks } from '../../workflows/bundle';
import type { ReplayCaptureSinks } from './captureResult';
import { readHistoryJSON } from './historyReader';
import { AuditReplayWorkflowCreator } from './hostEd25519';

/** One history to replay, with the attempt (workflow) ID it belongs to. */
export interface ReplayItem {
  history: unknown;
  workflowId: string;
}

export type ReplayOutcome = { ok: true; result: unknown } | { ok: false; error: string };

/** The replay bundle's code (its source map is inline, or empty in a verification thread). */
export type WorkflowBundle = { code: string };

/**
 * The SDK's replay worker without its per-call sandbox watchdog. Replay runs in debug mode, where the SDK's isolate
 * execution timeout is 2^32 − 1 ms (≈ 50 days): it never fires, but Node's `vm` starts a watchdog thread for every
 * call into the sandbox that has a timeout — ≈ 100 µs of CPU (and more of wall time) per call, dozens of calls per
 * history. Without the timeout the workflow code runs exactly the same; a history whose code never finishes hangs
 * the replay as it (practically) did before.
 */
class AuditReplayWorker extends Worker {
  protected static override createWorkflowCreator(
    ...[bundle, compiled, logger]: Parameters<typeof Worker.createWorkflowCreator>
  ): ReturnType<typeof Worker.createWorkflowCreator> {
    const noTimeout = undefined as unknown as number;
    // A replay worker's own case (debug mode, reusable context, no patch callback): the SDK's creator, plus the
    // sandbox global the replay bundle's Ed25519 fast path asks (hostEd25519.ts). Anything else: the SDK's path.
    if (compiled.debugMode && compiled.reuseV8Context && compiled.patchActivationCallback === undefined)
      return AuditReplayWorkflowCreator.create(bundle, noTimeout, new Set(compiled.activities.keys()));
    return super.createWorkflowCreator(bundle, { ...compiled, isolateExecutionTimeoutMs: noTimeout }, logger);
  }
}

interface Queued {
  item: ReplayItem;
  settle: (outcome: ReplayOutcome) => void;
}

let replaySeq = 0;

/**
 * One replay worker (`Worker.runReplayHistories`) fed lazily from a queue: histories are replayed strictly one at a
 * time, in the order `replay` was called, each on the SDK's reusable V8 context — the same one-context-for-many-
 * workflows a live plane worker runs for days. Kept open (`close` not called), the worker, its context and the code
 * V8 has compiled and optimised for it serve every later batch, instead of being built and warmed up again per batch.
 *
 * If the replay worker fails, the history it was on fails with the reason and the rest go to a new worker; a new
 * worker that fails before settling any history fails everything queued (another would not do better). Never
 * rejects: every history gets an outcome.
 */
export class ReplaySession {
  private readonly queue: Queued[] = [];
  private wake: (() => void) | undefined;
  /** Set and cleared synchronously with the queue checks, so a history queued as a worker stops is never stranded. */
  private draining = false;
  private drained: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly bundle: WorkflowBundle,
    private readonly dataConverter?: DataConverter,
  ) {}

  /** Replays one history after those already queued; resolves with what the workflow code recomputes, or why not. */
  replay(item: ReplayItem): Promise<ReplayOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'the replay session is closed' });
    return new Promise((settle) => {
      this.queue.push({ item, settle });
      this.wakeUp();
      if (!this.draining) {
        this.draining = true;
        this.drained = this.drain();
      }
    });
  }

  /** Lets the worker finish what is queued, then shuts it down (resolves when it has). */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeUp();
    await this.drained;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Runs replay workers until the history stream ends (closed and drained), or a fresh worker settles nothing. */
  private async drain(): Promise<void> {
    for (;;) {
      const { settled, error } = await this.runWorker();
      if (error !== undefined && !settled) for (const queued of this.queue.splice(0)) queued.settle({ ok: false, error });
      // Ended, failed for good, or failed with nothing left: the next `replay` starts a new worker.
      if (error === undefined || !settled || this.queue.length === 0) {
        this.draining = false;
        return;
      }
    }
  }

  /** One replay worker's life. `settled`: it settled at least one history; `error`: why it stopped, unless it ended. */
  private async runWorker(): Promise<{ settled: boolean; error?: string }> {
    // Histories are replayed strictly one at a time per worker, and the sink fires before the eviction that yields the
    // result, so `captured` holds at most the result of the history in flight.
    const captured = new Map<string, unknown>();
    const inFlight: Queued[] = [];
    let settled = false;
    const sinks: InjectedSinks<ReplayCaptureSinks> = {
      ...idleTelemetrySinks(),
      ecpReplay: {
        completed: {
          fn: (info, result) => {
            captured.set(info.workflowId, result);
          },
          callDuringReplay: true,
        },
      },
    };
    // The SDK asks for the next history only after the previous one's result was taken, so one is in flight at most.
    const histories = async function* (this: ReplaySession): AsyncGenerator<HistoryAndWorkflowId> {
      for (;;) {
        const next = this.queue.shift();
        if (!next) {
          if (this.closed) return;
          await new Promise<void>((resolve) => (this.wake = resolve));
          continue;
        }
        let history: HistoryAndWorkflowId['history'];
        try {
          history = readHistoryJSON(next.item.history);
        } catch (err) {
          // A malformed history is reported and skipped (converted lazily, as the worker asks for it).
          next.settle({ ok: false, error: `the history is not a valid Temporal history: ${(err as Error).message}` });
          settled = true;
          continue;
        }
        captured.clear();
        inFlight.push(next);
        yield { workflowId: next.item.workflowId, history };
      }
    }.call(this);
    try {
      const results = AuditReplayWorker.runReplayHistories(
        { workflowBundle: this.bundle, sinks, dataConverter: this.dataConverter, replayName: `ecp-audit-${process.pid}-${replaySeq++}` },
        histories,
      );
      for await (const result of results) {
        const current = inFlight[0];
        if (current === undefined || current.item.workflowId !== result.workflowId)
          throw new Error(`replay result for an unexpected workflow ${result.workflowId}`);
        inFlight.shift();
        if (result.error) current.settle({ ok: false, error: `${result.error.name}: ${result.error.message}` });
        else if (!captured.has(result.workflowId))
          current.settle({ ok: false, error: 'the workflow code did not complete when replaying this history' });
        else current.settle({ ok: true, result: captured.get(result.workflowId) });
        settled = true;
        captured.clear();
      }
    } catch (err) {
      const error = `${(err as Error).name}: ${(err as Error).message}`;
      const current = inFlight.shift();
      if (current) {
        current.settle({ ok: false, error });
        settled = true;
      }
      return { settled, error };
    }
    return { settled };
  }
}
