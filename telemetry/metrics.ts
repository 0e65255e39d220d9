import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AttemptLabels, ClosedAttemptSummary } from '../common/telemetry';

/** Counts visible attempts awaiting a decision from one group (a visibility count query); null when it cannot. */
export type PendingCounter = (group: string) => Promise<number | null>;

const UNKNOWN = 'unknown';
const label = (value: string | null) => value ?? UNKNOWN;

/**
 * ECP's own Prometheus metrics (prom-client), on one registry with Node's process metrics. Each metric's meaning is in
 * docs/observability.md. Counters live in this worker process: they start at 0 when it starts and count what this
 * worker saw (sum across workers in queries); `ecp_pending_attempts` and `ecp_archive_lag_seconds` are cluster-wide
 * readings, the same on every worker (take max, not sum).
 */
export class PlaneMetrics {
  readonly registry = new Registry();
  readonly attemptsStarted: Counter<'action_type'>;
  readonly attemptsClosed: Counter<'action_type' | 'status'>;
  readonly decisionLatency: Histogram<'action_type' | 'outcome'>;
  readonly refusals: Counter<'code'>;
  readonly executorFailures: Counter<'action_type' | 'type'>;
  readonly recheckBlocks: Counter<'action_type'>;
  readonly archiveLag: Gauge;
  readonly archiveSealed: Counter;
  readonly pending: Gauge<'group'>;

  constructor(options: { groups?: () => string[]; countPending?: PendingCounter } = {}) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.attemptsStarted = new Counter({
      name: 'ecp_attempts_started_total',
      help: 'Attempts this worker started running (first workflow task), by action type',
      labelNames: ['action_type'],
      registers,
    });
    this.attemptsClosed = new Counter({
      name: 'ecp_attempts_closed_total',
      help: 'Attempts this worker closed, by terminal status and action type',
      labelNames: ['action_type', 'status'],
      registers,
    });
    this.decisionLatency = new Histogram({
      name: 'ecp_decision_latency_seconds',
      help: 'From AWAITING_DECISION to the decision that ended the wait (approved: requirements met; rejected)',
      labelNames: ['action_type', 'outcome'],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600],
      registers,
    });
    this.refusals = new Counter({
      name: 'ecp_decision_refusals_total',
      help: 'Decisions that did not count, by refusal code (from closed attempts; "unrecorded" beyond the kept list)',
      labelNames: ['code'],
      registers,
    });
    this.executorFailures = new Counter({
      name: 'ecp_executor_failures_total',
      help: 'Failed executor runs on this worker (every try, retried or final), by action type and failure type',
      labelNames: ['action_type', 'type'],
      registers,
    });
    this.recheckBlocks = new Counter({
      name: 'ecp_recheck_blocks_total',
      help: 'Authorised actions the re-check before enforcement stopped (stale authority), by action type',
      labelNames: ['action_type'],
      registers,
    });
    this.archiveLag = new Gauge({
      name: 'ecp_archive_lag_seconds',
      help: "How far the archive is behind after the archiver's last pass on this worker: 0 when caught up, else the age of its watermark",
      registers,
    });
    this.archiveSealed = new Counter({
      name: 'ecp_archive_sealed_total',
      help: 'Evidence packs this worker sealed into the archive',
      registers,
    });
    const { groups, countPending } = options;
    this.pending = new Gauge({
      name: 'ecp_pending_attempts',
      help: 'Attempts awaiting a decision from each directory group, counted by a visibility query at scrape time',
      labelNames: ['group'],
      registers,
      async collect() {
        if (!groups || !countPending) return;
        this.reset();
        const names = groups();
        const counts = await Promise.all(names.map((g) => countPending(g).catch(() => null)));
        // A group whose count failed is left out rather than reported as 0: no reading is better than a false one.
        names.forEach((g, i) => {
          const n = counts[i];
          if (n !== null && n !== undefined) this.set({ group: g }, n);
        });
      },
    });
  }

  /** An attempt's first workflow task ran on this worker. */
  attemptStarted(labels: AttemptLabels): void {
    this.attemptsStarted.inc({ action_type: label(labels.actionType) });
  }

  /** An attempt closed on this worker: its status, decision latency, refusals and re-check verdict. */
  attemptClosed(summary: ClosedAttemptSummary): void {
    const actionType = label(summary.actionType);
    this.attemptsClosed.inc({ action_type: actionType, status: summary.status });
    if (summary.decision)
      this.decisionLatency.observe({ action_type: actionType, outcome: summary.decision.outcome }, summary.decision.latencyMs / 1000);
    for (const [code, n] of Object.entries(summary.refusals)) if (n) this.refusals.inc({ code }, n);
    if (summary.recheckBlocked) this.recheckBlocks.inc({ action_type: actionType });
  }

  /** One executor run failed (an activity try): `type` is the failure type (e.g. HttpStatusError) or `Error`. */
  executorFailed(actionType: string | null, type: string): void {
    this.executorFailures.inc({ action_type: label(actionType), type });
  }

  /**
   * An archiver pass ended: how many it sealed, its watermark, and whether it left attempts behind (out of time, or
   * failed ones). Caught up → lag 0; behind → the age of the watermark.
   */
  archivePass(pass: { sealed: number; watermark: string | null; behind: boolean }, now = Date.now()): void {
    if (pass.sealed > 0) this.archiveSealed.inc(pass.sealed);
    this.archiveLag.set(pass.behind && pass.watermark ? Math.max(0, (now - Date.parse(pass.watermark)) / 1000) : 0);
  }

  /** The Prometheus text exposition of every metric here. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
