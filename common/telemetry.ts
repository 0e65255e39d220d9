// The contract between the workflow sandbox and the worker's metrics and logs: what the workflow's interceptor reports
// through Temporal sinks (workflows/interceptors.ts) and the pure summary of a closed attempt both sides agree on.
// Sandbox-safe: no Node built-ins, no zod.
import type { Sinks } from '@temporalio/workflow';
import type { AttemptRecord, RefusalCode } from './record';
import type { AttemptStatus } from './status';

/** The attempt a telemetry event is about, as far as it is known (a malformed proposal may name no agent). */
export interface AttemptLabels {
  attemptId: string;
  agent: string | null;
  actionType: string | null;
}

/** A closed attempt, reduced to what metrics and logs need (no parameters, no claims, no signatures). */
export interface ClosedAttemptSummary extends AttemptLabels {
  status: AttemptStatus;
  /**
   * How long humans took: from entering AWAITING_DECISION to the step that ended the wait because of a decision
   * (`approved`: requirements met; `rejected`). Null when no decision ended the wait (expired, cancelled, never awaited).
   */
  decision: { outcome: 'approved' | 'rejected'; latencyMs: number } | null;
  /** Refused decisions by code, from the record's kept refusals; `unrecorded` counts those beyond the kept list. */
  refusals: Partial<Record<RefusalCode | 'unrecorded', number>>;
  /** True when the re-check right before enforcement stopped an authorised action (stale authority). */
  recheckBlocked: boolean;
  /** The executor's final failure type when the attempt FAILED. */
  executorFailure: string | null;
}

/**
 * Temporal sinks the plane's workflow interceptor calls. Sinks do not add workflow commands and the worker does not
 * call them while replaying, so each event is reported once per first execution of the workflow task that caused it
 * (a task that fails after its sinks ran is re-executed and reports again: counts are at-least-once).
 */
export interface EcpTelemetrySinks extends Sinks {
  ecpTelemetry: {
    attemptStarted(labels: AttemptLabels): void;
    attemptClosed(summary: ClosedAttemptSummary): void;
  };
}

/** Labels of a proposal as the workflow received it: unvalidated input, so every field is checked before use. */
export function proposalLabels(attemptId: string, proposal: unknown): AttemptLabels {
  const p = (typeof proposal === 'object' && proposal !== null ? proposal : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : null);
  return { attemptId, agent: text(p.agent), actionType: text(p.actionType) };
}

/** The {@link ClosedAttemptSummary} of a closed attempt's record. Pure: same record, same summary. */
export function summariseClosedAttempt(record: AttemptRecord): ClosedAttemptSummary {
  const refusals: ClosedAttemptSummary['refusals'] = {};
  for (const r of record.decisions.refused) refusals[r.code] = (refusals[r.code] ?? 0) + 1;
  const unrecorded = record.decisions.refusedTotal - record.decisions.refused.length;
  if (unrecorded > 0) refusals.unrecorded = unrecorded;
  return {
    attemptId: record.attemptId,
    agent: record.proposal.agent,
    actionType: record.proposal.actionType,
    status: record.status,
    decision: decisionOf(record),
    refusals,
    recheckBlocked: record.enforcement?.verdict === 'blocked',
    executorFailure: record.status === 'FAILED' && record.outcome && !record.outcome.ok ? record.outcome.error.type : null,
  };
}

function decisionOf(record: AttemptRecord): ClosedAttemptSummary['decision'] {
  const waitIndex = record.timeline.findIndex((e) => e.status === 'AWAITING_DECISION');
  const waited = record.timeline[waitIndex];
  const ended = record.timeline[waitIndex + 1];
  if (waitIndex === -1 || !waited || !ended) return null;
  const latencyMs = Math.max(0, Date.parse(ended.at) - Date.parse(waited.at));
  if (ended.status === 'REJECTED') return { outcome: 'rejected', latencyMs };
  // Requirements met: the attempt went on to execute, or its re-check blocked it (an enforcement verdict exists).
  if (ended.status === 'EXECUTING' || (ended.status === 'DENIED' && record.enforcement)) return { outcome: 'approved', latencyMs };
  return null;
}
