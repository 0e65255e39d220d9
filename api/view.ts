import { compareClaims } from '../common/claims';
import { deciderCheck, decisionsStillOpen } from '../common/decisionRules';
import type { AttemptRecord, JsonValue } from '../common/record';
import { textWarnings, type TextWarning } from '../common/textWarnings';

export interface AttemptView {
  record: AttemptRecord;
  claims: ReturnType<typeof compareClaims>;
  /** Parameter and claim strings that may look like a different value (not NFC, mixed scripts in a word). */
  textWarnings: TextWarning[];
  viewer: { mayDecide: boolean; why: string | null };
  serverTime: string;
}

/**
 * What the console shows for one attempt: the record itself, the claims-vs-facts comparison, warnings for strings
 * that may imitate another value (common/textWarnings.ts, the same rule as `ecp show`), and whether this human
 * may decide — the workflow's own rule (`deciderCheck`) on the state the record holds. It only decides whether
 * buttons are offered; the workflow checks every decision again.
 */
export function attemptView(record: AttemptRecord, human: string, now = Date.now()): AttemptView {
  return {
    record,
    claims: compareClaims(record.proposal.claims as Record<string, JsonValue>, record.context?.facts ?? null),
    textWarnings: proposalTextWarnings(record),
    viewer: viewer(record, human, now),
    serverTime: new Date(now).toISOString(),
  };
}

/** Whether `human` may decide on the attempt this record shows, and if not, the workflow's reason. */
function viewer(record: AttemptRecord, human: string, now: number): AttemptView['viewer'] {
  const check = deciderCheck(
    {
      attemptId: record.attemptId,
      proposalHash: record.proposalHash,
      status: record.status,
      accepting: record.status === 'AWAITING_DECISION' && decisionsStillOpen(record.requirements, record.decisions.accepted),
      deadlineMs: record.deadline ? Date.parse(record.deadline) : null,
      nowMs: now,
      // What the workflow checks against: the pinned directory and the advice's requirements (none before evaluation).
      directory: record.context?.directory ?? { version: '', agent: null, humans: {} },
      requirements: record.advice?.requirements ?? [],
      accepted: record.decisions.accepted,
    },
    human,
  );
  return check.ok ? { mayDecide: true, why: null } : { mayDecide: false, why: check.message };
}

/** Text warnings for a record's parameters and claims, as the console API and `ecp show` report them. */
export function proposalTextWarnings(record: Pick<AttemptRecord, 'proposal'>): TextWarning[] {
  return [...textWarnings(record.proposal.parameters, 'parameters'), ...textWarnings(record.proposal.claims ?? {}, 'claims')];
}
