import type { ApprovalRequirement } from './advice';
import { findSigningKey, keyFingerprint, type SignedDecision } from './decision';
import type { PinnedDirectory } from './directory';
import type { AcceptedDecision, AttemptStatus, RefusalCode, RequirementProgress } from './record';

export interface DecisionCheckInput {
  decision: SignedDecision;
  attemptId: string;
  proposalHash: string;
  status: AttemptStatus;
  /** False once the wait is over (requirements met, rejected, expired): later decisions change nothing. */
  accepting: boolean;
  deadlineMs: number | null;
  nowMs: number;
  directory: PinnedDirectory;
  requirements: readonly ApprovalRequirement[];
  accepted: readonly AcceptedDecision[];
}

export type DecisionCheck = { ok: true; keyFingerprint: string } | { ok: false; code: RefusalCode; message: string };

const refuse = (code: RefusalCode, message: string): DecisionCheck => ({ ok: false, code, message });

/**
 * The rules a decision must pass to count. Pure and deterministic: the workflow applies it live and an auditor can
 * apply it again to a record. Order matters only for which reason is reported first.
 */
export function checkDecision(input: DecisionCheckInput): DecisionCheck {
  const { decision, directory } = input;
  const { statement } = decision;
  if (input.status === 'EXPIRED' || (input.deadlineMs !== null && input.nowMs > input.deadlineMs)) {
    return refuse('deadline_passed', 'the decision deadline has passed; the attempt is expired');
  }
  if (input.status !== 'AWAITING_DECISION') {
    return refuse('not_awaiting', `the attempt is ${input.status}, not awaiting a decision`);
  }
  if (!input.accepting) {
    return refuse('not_awaiting', 'the decision is already made (requirements met or rejected); the attempt is proceeding');
  }
  if (statement.attemptId !== input.attemptId) {
    return refuse('wrong_attempt', `the decision names attempt ${statement.attemptId}, not ${input.attemptId}`);
  }
  if (statement.proposalHash !== input.proposalHash) {
    return refuse('wrong_proposal_hash', `the decision approves proposal ${statement.proposalHash}, not ${input.proposalHash}`);
  }
  const agent = directory.agent;
  if (agent && statement.human === agent.id) {
    return refuse('agent_cannot_decide', 'an agent cannot decide on an attempt; only humans can');
  }
  const human = directory.humans[statement.human];
  if (!human) {
    return refuse('unknown_human', `"${statement.human}" is not a human who may decide (not in the pinned directory)`);
  }
  const key = findSigningKey(decision, human.publicKeys);
  if (!key) {
    return refuse('bad_signature', `the signature does not verify against any key registered to "${statement.human}"`);
  }
  if (agent && statement.human === agent.owner) {
    return refuse('self_approval', `"${statement.human}" owns the proposing agent "${agent.id}" and cannot decide on its attempts`);
  }
  const requiredGroups = new Set(input.requirements.flatMap((r) => r.groups));
  if (!human.groups.some((g) => requiredGroups.has(g))) {
    return refuse('not_in_required_group', `"${statement.human}" is in none of the required groups (${[...requiredGroups].join(', ')})`);
  }
  if (input.accepted.some((d) => d.human === statement.human)) {
    return refuse('duplicate_approver', `"${statement.human}" has already decided on this attempt`);
  }
  return { ok: true, keyFingerprint: keyFingerprint(key) };
}

/** Quorum progress: each requirement counts the distinct approving humans who belong to one of its groups. */
export function requirementProgress(
  requirements: readonly ApprovalRequirement[],
  accepted: readonly AcceptedDecision[],
  directory: PinnedDirectory,
): RequirementProgress[] {
  const approvers = accepted.filter((d) => d.verdict === 'approve').map((d) => d.human);
  return requirements.map((req) => {
    const approvedBy = [...new Set(approvers)].filter((h) => (directory.humans[h]?.groups ?? []).some((g) => req.groups.includes(g)));
    return { ...req, approvedBy, met: approvedBy.length >= req.quorum };
  });
}

export function allRequirementsMet(progress: readonly RequirementProgress[]): boolean {
  return progress.every((p) => p.met);
}

/** Groups whose approvals are still needed (for the `EcpAwaitingGroups` search attribute and inboxes). */
export function groupsStillAwaited(progress: readonly RequirementProgress[]): string[] {
  return [...new Set(progress.filter((p) => !p.met).flatMap((p) => p.groups))].sort();
}

/**
 * Accepted approvals that still stand against a fresher directory: the human is still registered with the key that
 * signed. Used on re-check so a revoked key or a removed approver cannot carry an approval into execution.
 */
export function approvalsStillValid(accepted: readonly AcceptedDecision[], fresh: PinnedDirectory): AcceptedDecision[] {
  return accepted.filter((d) => {
    const human = fresh.humans[d.human];
    if (!human) return false;
    if (fresh.agent && (d.human === fresh.agent.owner || d.human === fresh.agent.id)) return false;
    return human.publicKeys.some((k) => keyFingerprint(k) === d.keyFingerprint);
  });
}
