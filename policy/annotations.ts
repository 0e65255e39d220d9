import type { ApprovalRequirement } from '../common/advice';
import { parseDuration } from '../common/duration';

/**
 * How approval requirements are written in Cedar: annotations on a `permit` policy.
 *
 *   @id("refund.large")                 the policy id reported in advice (unique; default "<file>#<n>")
 *   @requires_approval("finance")       groups whose members may approve (comma-separated: any of them)
 *   @quorum("2")                        distinct approvers needed (default 1)
 *   @deadline("4h")                     time to decide: s, m, h or d (default from configuration)
 *   @on_expiry("expire")                only "expire" (fail closed) exists today
 *
 * Governance (docs/governance.md):
 *   @override_by("incident-command")    groups whose signed override meets the requirement on its own; on a `forbid`,
 *                                       makes the forbid overridable (without it a forbid stays a hard deny)
 *   @ratify_by("sre") + @ratify_within("24h")  an override must be countersigned by another human of that group
 *   @escalate_after("30m,2h") + @escalate_to("finance-leads,cfo")  escalation chain: after each window (from the start
 *                                       of the wait) without the quorum, the next group becomes eligible too (widens)
 *   @remind_before("15m,5m")            reminders before the deadline, while the quorum is missing
 *
 * A satisfied permit with `@requires_approval` turns allow into require_approval; when several apply, all must be met.
 */
export const APPROVAL_ANNOTATIONS = ['requires_approval', 'quorum', 'deadline', 'on_expiry'] as const;
/** Annotations of the governance controls (docs/governance.md). */
export const GOVERNANCE_ANNOTATIONS = ['override_by', 'ratify_by', 'ratify_within', 'escalate_after', 'escalate_to', 'remind_before'] as const;
/** What an overridable forbid may carry besides `@override_by`. */
const FORBID_ANNOTATIONS = new Set(['override_by', 'ratify_by', 'ratify_within', 'deadline', 'remind_before']);

const list = (text: string) =>
  text
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);

/**
 * The requirement a policy's annotations describe: for a permit, its approval requirement (or null); for a forbid
 * with `@override_by`, its override requirement (`kind: "override"`, no approver groups: only an override meets it).
 * Every problem is reported, naming the annotation and the reason.
 */
export function requirementFromAnnotations(
  policyId: string,
  effect: 'permit' | 'forbid',
  annotations: Record<string, string>,
  defaultDeadlineSeconds: number,
): { requirement: ApprovalRequirement | null; problems: string[] } {
  const problems: string[] = [];
  const present = [...APPROVAL_ANNOTATIONS, ...GOVERNANCE_ANNOTATIONS].filter((k) => k in annotations);
  if (present.length === 0) return { requirement: null, problems };
  if (effect === 'forbid') return forbidRequirement(policyId, annotations, present, defaultDeadlineSeconds);
  const groupsText = annotations.requires_approval;
  if (groupsText === undefined) {
    return { requirement: null, problems: [`@${present[0]} needs @requires_approval("<group>") on the same policy`] };
  }
  const groups = list(groupsText);
  if (groups.length === 0) problems.push('@requires_approval must name at least one group');

  const quorumText = annotations.quorum ?? '1';
  const quorum = /^[1-9][0-9]{0,2}$/.test(quorumText) ? Number(quorumText) : NaN;
  if (Number.isNaN(quorum)) problems.push(`@quorum("${quorumText}") must be a whole number from 1 to 999`);

  const deadlineSeconds = deadlineOf(annotations, defaultDeadlineSeconds, problems);
  const onExpiry = annotations.on_expiry ?? 'expire';
  if (onExpiry !== 'expire') problems.push(`@on_expiry("${onExpiry}") is not supported; only "expire" (fail closed) is`);
  const governance = governanceOf(annotations, deadlineSeconds, problems);

  if (problems.length > 0) return { requirement: null, problems };
  return { requirement: { policyId, groups, quorum, deadlineSeconds, onExpiry: 'expire', ...governance }, problems };
}

function forbidRequirement(
  policyId: string,
  annotations: Record<string, string>,
  present: readonly string[],
  defaultDeadlineSeconds: number,
): { requirement: ApprovalRequirement | null; problems: string[] } {
  if (annotations.override_by === undefined) {
    return { requirement: null, problems: [`@${present[0]} is only allowed on permit policies (a forbid cannot be approved away)`] };
  }
  const misplaced = present.filter((k) => !FORBID_ANNOTATIONS.has(k));
  if (misplaced.length > 0) {
    return { requirement: null, problems: [`@${misplaced[0]} is not allowed on a forbid (an overridable forbid is met only by an override)`] };
  }
  const problems: string[] = [];
  const deadlineSeconds = deadlineOf(annotations, defaultDeadlineSeconds, problems);
  const governance = governanceOf(annotations, deadlineSeconds, problems);
  if (problems.length > 0) return { requirement: null, problems };
  const requirement: ApprovalRequirement = {
    policyId,
    groups: [],
    quorum: 1,
    deadlineSeconds,
    onExpiry: 'expire',
    kind: 'override',
    ...governance,
  };
  return { requirement, problems };
}

function deadlineOf(annotations: Record<string, string>, fallback: number, problems: string[]): number {
  if (annotations.deadline === undefined) return fallback;
  try {
    return parseDuration(annotations.deadline);
  } catch (err) {
    problems.push(`@deadline: ${(err as Error).message}`);
    return fallback;
  }
}

function durations(name: string, text: string, problems: string[]): number[] {
  const out: number[] = [];
  for (const part of list(text)) {
    try {
      out.push(parseDuration(part));
    } catch (err) {
      problems.push(`@${name}: ${(err as Error).message}`);
    }
  }
  if (out.length === 0 && problems.length === 0) problems.push(`@${name} must name at least one duration`);
  return out;
}

type Governance = Pick<ApprovalRequirement, 'overrideBy' | 'ratify' | 'escalations' | 'remindBeforeSeconds'>;

function governanceOf(annotations: Record<string, string>, deadlineSeconds: number, problems: string[]): Governance {
  const out: Governance = {};
  if (annotations.override_by !== undefined) {
    const groups = list(annotations.override_by);
    if (groups.length === 0) problems.push('@override_by must name at least one group');
    else out.overrideBy = groups;
  }
  const ratifyBy = annotations.ratify_by;
  const ratifyWithin = annotations.ratify_within;
  if ((ratifyBy === undefined) !== (ratifyWithin === undefined)) {
    problems.push('@ratify_by and @ratify_within go together (who countersigns an override, and within how long)');
  } else if (ratifyBy !== undefined && ratifyWithin !== undefined) {
    if (!out.overrideBy) problems.push('@ratify_by needs @override_by on the same policy (only an override is ratified)');
    const groups = list(ratifyBy);
    if (groups.length === 0) problems.push('@ratify_by must name at least one group');
    const within = durations('ratify_within', ratifyWithin, problems);
    if (within.length > 1) problems.push('@ratify_within takes one duration');
    if (groups.length > 0 && within.length === 1) out.ratify = { groups, withinSeconds: within[0]! };
  }
  const after = annotations.escalate_after;
  const to = annotations.escalate_to;
  if ((after === undefined) !== (to === undefined)) {
    problems.push('@escalate_after and @escalate_to go together (when, and to which group, the requirement escalates)');
  } else if (after !== undefined && to !== undefined) {
    const windows = durations('escalate_after', after, problems);
    const groups = list(to);
    if (windows.length !== groups.length) {
      problems.push(`@escalate_after names ${windows.length} window(s) but @escalate_to ${groups.length} group(s): one group per step`);
    } else if (windows.some((w, i) => i > 0 && w <= windows[i - 1]!)) {
      problems.push('@escalate_after windows must increase (each counted from the start of the wait)');
    } else if (windows.some((w) => w >= deadlineSeconds)) {
      problems.push(`@escalate_after windows must end before the deadline (${deadlineSeconds}s)`);
    } else if (windows.length > 0) {
      out.escalations = windows.map((afterSeconds, i) => ({ afterSeconds, groups: [groups[i]!] }));
    }
  }
  if (annotations.remind_before !== undefined) {
    const before = durations('remind_before', annotations.remind_before, problems);
    if (before.some((b) => b >= deadlineSeconds)) problems.push(`@remind_before must be shorter than the deadline (${deadlineSeconds}s)`);
    else if (before.length > 0) out.remindBeforeSeconds = [...new Set(before)].sort((a, b) => b - a);
  }
  return out;
}
