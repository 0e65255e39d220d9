import type { AttemptRecord, AttemptStatus, JsonValue } from '../common';

/**
 * How a governed tool call ended, as far as the model is concerned. `pending` (awaiting a human decision) and
 * `in_progress` (still evaluating or executing) are not errors: the attempt goes on after the tool returns.
 */
export type GovernedOutcome = 'succeeded' | 'denied' | 'rejected' | 'expired' | 'failed' | 'cancelled' | 'pending' | 'in_progress';

/** What a governed tool call answers: the attempt, its outcome, and the text the model reads. */
export interface GovernedAnswer {
  outcome: GovernedOutcome;
  /** The attempt's status when the tool answered. */
  status: AttemptStatus;
  attemptId: string;
  /** The executor's result (only when `outcome` is `succeeded`). */
  result?: JsonValue;
  /** Plain text for the model: the refusal with its reasons, the pending state, or how it failed. */
  text: string;
  /** Why it did not run (policy reasons, a rejecting human's reason, the executor's error); empty otherwise. */
  reasons: string[];
  /** The decision deadline (ISO 8601) while awaiting a decision or when expired; null otherwise. */
  deadline: string | null;
  /** Where a human sees and decides this attempt in the web console. */
  consoleLink: string;
}

/** The console page of one attempt (the console routes `/attempts/<id>`). */
export function consoleLinkFor(consoleUrl: string, attemptId: string): string {
  return `${consoleUrl.replace(/\/+$/, '')}/attempts/${encodeURIComponent(attemptId)}`;
}

/**
 * The answer for an attempt as its record stands now (closed or not). Pure: the same record gives the same answer.
 * A status this function does not know is answered as `in_progress`, never as success (fail closed).
 */
export function answerFor(record: AttemptRecord, consoleUrl: string): GovernedAnswer {
  const { attemptId, status, deadline } = record;
  const consoleLink = consoleLinkFor(consoleUrl, attemptId);
  const base = { status, attemptId, deadline, consoleLink };
  const note = record.timeline.at(-1)?.note;
  switch (status) {
    case 'SUCCEEDED': {
      // Only an outcome the executor reported counts as a result; a SUCCEEDED record without one is refused below.
      if (record.outcome?.ok) {
        return { ...base, outcome: 'succeeded', result: record.outcome.result, reasons: [], text: `Done (attempt ${attemptId}).` };
      }
      return failed(base, ['the record says SUCCEEDED but holds no executor result']);
    }
    case 'DENIED': {
      const reasons =
        record.advice?.verdict === 'deny' && record.advice.reasons.length > 0 ? record.advice.reasons : [note ?? 'denied by policy'];
      return {
        ...base,
        outcome: 'denied',
        reasons,
        text:
          `DENIED: the action was not performed and will not be. Policy refused it (attempt ${attemptId}). ` +
          `Reasons: ${reasons.join('; ')}. Do not retry the same call; tell the user it was refused and why.`,
      };
    }
    case 'REJECTED': {
      const rejections = record.decisions.accepted
        .filter((d) => d.verdict === 'reject')
        .map((d) => (d.reason ? `${d.human}: ${d.reason}` : d.human));
      const reasons = rejections.length > 0 ? rejections : [note ?? 'rejected by a human approver'];
      return {
        ...base,
        outcome: 'rejected',
        reasons,
        text: `REJECTED: a human approver rejected this action; it was not performed (attempt ${attemptId}). Reasons: ${reasons.join('; ')}.`,
      };
    }
    case 'EXPIRED':
      return {
        ...base,
        outcome: 'expired',
        reasons: [note ?? 'no decision before the deadline'],
        text:
          `EXPIRED: no human decided before the deadline${deadline ? ` (${deadline})` : ''}, so the action was not performed ` +
          `(attempt ${attemptId}). A new request would need a new approval.`,
      };
    case 'FAILED': {
      const error = record.outcome && !record.outcome.ok ? `${record.outcome.error.type}: ${record.outcome.error.message}` : note;
      return failed(base, [error ?? 'the executor failed']);
    }
    case 'CANCELLED':
      return {
        ...base,
        outcome: 'cancelled',
        reasons: [note ?? 'cancelled'],
        text: `CANCELLED: the attempt was cancelled before the action ran; nothing was performed (attempt ${attemptId}).`,
      };
    case 'AWAITING_DECISION': {
      const who = record.requirements
        .filter((r) => !r.met)
        .map((r) => `${r.quorum - r.approvedBy.length} approval(s) from ${r.groups.join(' or ')}`);
      return {
        ...base,
        outcome: 'pending',
        reasons: record.advice?.reasons ?? [],
        text:
          `PENDING HUMAN APPROVAL (not denied, not failed): attempt ${attemptId} is waiting for ` +
          `${who.length > 0 ? who.join(' and ') : 'a human decision'}` +
          `${deadline ? ` until ${deadline}` : ''}. Nothing has run yet; it runs once, by itself, if approved. ` +
          `Approvers decide at ${consoleLink}. Tell the user it awaits approval; to learn the outcome later, ask the ` +
          'attempt status tool with this attempt ID rather than calling this tool again (a new call is a new attempt ' +
          'that needs its own approval).',
      };
    }
    default:
      return {
        ...base,
        outcome: 'in_progress',
        reasons: [],
        text:
          `IN PROGRESS: attempt ${attemptId} is ${status.toLowerCase()}; the action has not been confirmed yet. ` +
          `Its outcome will be at ${consoleLink}.`,
      };
  }
}

function failed(base: Pick<GovernedAnswer, 'status' | 'attemptId' | 'deadline' | 'consoleLink'>, reasons: string[]): GovernedAnswer {
  return {
    ...base,
    outcome: 'failed',
    reasons,
    text: `FAILED: the action was authorised but did not succeed (attempt ${base.attemptId}): ${reasons.join('; ')}.`,
  };
}
