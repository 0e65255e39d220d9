import type { ApprovalRequirement } from './advice';
import type { SignedDecision } from './decision';
import { findSigningKey } from './signature';
import { keyFingerprint } from './statement';
import type { PinnedDirectory } from './directory';
import type { AcceptedDecision, AttemptStatus, RefusalCode, RequirementProgress } from './record';
import type { RatificationWindow } from './governance';

/** Everything the decision rules look at: the decision and the attempt as it stands when the decision arrives. */
export interface DecisionCheckInput {
  decision: SignedDecision;
  attemptId: string;
  proposalHash: string;
  status: AttemptStatus;
  /** False once the wait is over (requirements met, rejected, expired): later decisions change nothing. */
  accepting: boolean;
  deadlineMs: number | null;
  /** When the decision arrived (workflow time): the deadline is judged against this, not against when it is checked. */
  nowMs: number;
  directory: PinnedDirectory;
  requirements: readonly ApprovalRequirement[];
  accepted: readonly AcceptedDecision[];
  /** The decision must name its signing key (`key`); attempts started before that rule pass false. */
  requireKey?: boolean;
  /** The ratification an accepted override awaits (docs/governance.md); absent or null: nothing to ratify. */
  ratification?: RatificationWindow | null;
}

/** A refused decision: its code and a sentence saying why. */
export type DecisionRefusal = { ok: false; code: RefusalCode; message: string };
/** The verdict of `checkDecision`: counted (with the fingerprint of the key that signed), or refused. */
export type DecisionCheck = { ok: true; keyFingerprint: string } | DecisionRefusal;
/** The outcome of the cheap checks: a refusal, or the registered keys the signature must be checked against. */
export type DecisionScreen = { ok: true; candidateKeys: readonly string[] } | DecisionRefusal;
/** Finds the key among `keys` that verifies the decision's signature (Ed25519), or null. */
export type SigningKeyFinder = (decision: SignedDecision, keys: readonly string[]) => string | null;

const refuse = (code: RefusalCode, message: string): DecisionRefusal => ({ ok: false, code, message });

/**
 * The checks that need no signature verification, in the order `checkDecision` applies them. Whatever fails here
 * costs microseconds, so a flood of junk, of decisions for other attempts or of unregistered keys is refused cheaply.
 */
export function screenDecision(input: DecisionCheckInput): DecisionScreen {
  const { decision, directory } = input;
  const { statement } = decision;
  const status = statement.verdict === 'ratify' ? screenRatification(input) : screenWaiting(input);
  if (status) return status;
  if (statement.overrides !== undefined && statement.verdict !== 'override') {
    return refuse('malformed', 'malformed decision: overrides is only allowed on an override');
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
  const human = Object.hasOwn(directory.humans, statement.human) ? directory.humans[statement.human] : undefined;
  if (!human) {
    return refuse('unknown_human', `"${statement.human}" is not a human who may decide (not in the pinned directory)`);
  }
  if (decision.key !== undefined) {
    const named = human.publicKeys.filter((k) => keyFingerprint(k) === decision.key);
    if (named.length === 0) return refuse('unknown_key', `key ${decision.key} is not registered to "${statement.human}"`);
    return { ok: true, candidateKeys: named };
  }
  if (input.requireKey) return refuse('malformed', 'malformed decision: key must name the signing key (its fingerprint)');
  return { ok: true, candidateKeys: human.publicKeys };
}

/** The attempt must be waiting for decisions and its deadline not passed (approve, reject, override). */
function screenWaiting(input: DecisionCheckInput): DecisionRefusal | null {
  if (input.status === 'EXPIRED' || (input.deadlineMs !== null && input.nowMs > input.deadlineMs)) {
    return refuse('deadline_passed', 'the decision deadline has passed; the attempt is expired');
  }
  if (input.status !== 'AWAITING_DECISION') {
    return refuse('not_awaiting', `the attempt is ${input.status}, not awaiting a decision`);
  }
  if (!input.accepting) {
    return refuse('not_awaiting', 'the decision is already made (requirements met or rejected); the attempt is proceeding');
  }
  return null;
}

/** A ratification needs an accepted override that awaits one, within its window (the attempt may have executed). */
function screenRatification(input: DecisionCheckInput): DecisionRefusal | null {
  const window = input.ratification;
  if (!window || window.ratified) return refuse('nothing_to_ratify', 'this attempt has no override awaiting ratification');
  if (input.nowMs > window.untilMs) return refuse('deadline_passed', 'the ratification window has passed');
  return null;
}

/**
 * The rules a decision must pass to count. Pure and deterministic: the workflow applies it live and an auditor can
 * apply it again to a record. Order matters only for which reason is reported first; the one signature check comes
 * after every cheap refusal.
 */
export function checkDecision(input: DecisionCheckInput, findKey: SigningKeyFinder = findSigningKey): DecisionCheck {
  const screen = screenDecision(input);
  if (!screen.ok) return screen;
  const { decision, directory } = input;
  const { statement } = decision;
  const key = findKey(decision, screen.candidateKeys);
  if (!key) {
    return refuse('bad_signature', `the signature does not verify against any key registered to "${statement.human}"`);
  }
  const agent = directory.agent;
  if (agent && statement.human === agent.owner) {
    return refuse('self_approval', `"${statement.human}" owns the proposing agent "${agent.id}" and cannot decide on its attempts`);
  }
  const human = directory.humans[statement.human]!;
  const groupRefusal =
    statement.verdict === 'override'
      ? overrideRefusal(input, human.groups)
      : statement.verdict === 'ratify'
        ? ratifyRefusal(input, human.groups)
        : approvalGroupRefusal(input, human.groups);
  if (groupRefusal) return groupRefusal;
  if (input.accepted.some((d) => d.human === statement.human)) {
    return refuse('duplicate_approver', `"${statement.human}" has already decided on this attempt`);
  }
  return { ok: true, keyFingerprint: keyFingerprint(key) };
}

function approvalGroupRefusal(input: DecisionCheckInput, groups: readonly string[]): DecisionRefusal | null {
  const requiredGroups = new Set(input.requirements.flatMap((r) => r.groups));
  if (groups.some((g) => requiredGroups.has(g))) return null;
  return refuse(
    'not_in_required_group',
    `"${input.decision.statement.human}" is in none of the required groups (${[...requiredGroups].join(', ')})`,
  );
}

/**
 * An override: a justification, and only policy ids this advice marks overridable, each by a group of the human.
 * It meets exactly the requirements it names.
 */
function overrideRefusal(input: DecisionCheckInput, groups: readonly string[]): DecisionRefusal | null {
  const { statement } = input.decision;
  if (statement.reason.trim() === '') return refuse('justification_required', 'an override needs a justification (reason)');
  const named = statement.overrides ?? [];
  if (named.length === 0) return refuse('not_overridable', 'an override must name the policy ids it overrides (overrides)');
  for (const id of named) {
    const req = input.requirements.find((r) => r.policyId === id);
    if (!req?.overrideBy) return refuse('not_overridable', `"${id}" is not an overridable requirement or forbid of this attempt`);
    if (!groups.some((g) => req.overrideBy!.includes(g))) {
      return refuse(
        'not_in_override_group',
        `"${statement.human}" is in none of the groups that may override ${id} (${req.overrideBy.join(', ')})`,
      );
    }
  }
  return null;
}

function ratifyRefusal(input: DecisionCheckInput, groups: readonly string[]): DecisionRefusal | null {
  const window = input.ratification!;
  if (groups.some((g) => window.groups.includes(g))) return null;
  return refuse(
    'not_in_ratify_group',
    `"${input.decision.statement.human}" is in none of the groups that may ratify (${window.groups.join(', ')})`,
  );
}

/** The attempt's side of `DecisionCheckInput`: everything the rule reads except the decision itself. */
export type AttemptDecisionState = Omit<DecisionCheckInput, 'decision' | 'requireKey'>;

/**
 * Whether `human` may decide on the attempt now: `checkDecision` applied to the decision this human would send —
 * naming this attempt and proposal hash, signed with one of their registered keys. Views that offer or withhold the
 * decision buttons (the console API) call it, so they apply the very rule the workflow applies to the decision that
 * arrives; the workflow still checks that one, signature included.
 */
export function deciderCheck(state: AttemptDecisionState, human: string): DecisionCheck {
  const decision: SignedDecision = {
    statement: {
      v: 1,
      attemptId: state.attemptId,
      proposalHash: state.proposalHash,
      verdict: 'approve',
      human,
      reason: '',
      decidedAt: new Date(state.nowMs).toISOString(),
    },
    signature: '',
  };
  // The human will sign with a key of their own: any registered key stands in for that signature (none: bad_signature).
  return checkDecision({ ...state, decision }, (_decision, keys) => keys[0] ?? null);
}

/**
 * True while an awaiting attempt still takes decisions: its requirements are not all met and no rejection counted
 * (the workflow stops accepting at that point). Reads only what a record holds.
 */
export function decisionsStillOpen(progress: readonly RequirementProgress[], accepted: readonly AcceptedDecision[]): boolean {
  return !allRequirementsMet(progress) && !accepted.some((d) => d.verdict === 'reject');
}

/**
 * Quorum progress: each requirement counts the distinct approving humans who belong to one of its groups. An
 * overridable requirement also lists who overrode it (an accepted override naming it, by a human of its
 * `overrideBy` groups) and is met by that alone.
 */
export function requirementProgress(
  requirements: readonly ApprovalRequirement[],
  accepted: readonly AcceptedDecision[],
  directory: PinnedDirectory,
): RequirementProgress[] {
  const approvers = accepted.filter((d) => d.verdict === 'approve').map((d) => d.human);
  const groupsOf = (h: string) => directory.humans[h]?.groups ?? [];
  return requirements.map((req) => {
    const approvedBy = [...new Set(approvers)].filter((h) => groupsOf(h).some((g) => req.groups.includes(g)));
    const overrideBy = req.overrideBy;
    if (!overrideBy) return { ...req, approvedBy, met: approvedBy.length >= req.quorum };
    const overriddenBy = accepted
      .filter((d) => d.verdict === 'override' && (d.statement.overrides ?? []).includes(req.policyId))
      .map((d) => d.human)
      .filter((h) => groupsOf(h).some((g) => overrideBy.includes(g)));
    return { ...req, approvedBy, overriddenBy, met: approvedBy.length >= req.quorum || overriddenBy.length > 0 };
  });
}

/** True when every requirement has its quorum. */
export function allRequirementsMet(progress: readonly RequirementProgress[]): boolean {
  return progress.every((p) => p.met);
}

/** Groups whose approvals are still needed (for the `EcpAwaitingGroups` search attribute and inboxes). */
export function groupsStillAwaited(progress: readonly RequirementProgress[]): string[] {
  // Groups that may override an unmet requirement are awaited too: they see it in their inbox.
  return [...new Set(progress.filter((p) => !p.met).flatMap((p) => [...p.groups, ...(p.overrideBy ?? [])]))].sort();
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
