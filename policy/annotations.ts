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
 * A satisfied permit with `@requires_approval` turns allow into require_approval; when several apply, all must be met.
 */
export const APPROVAL_ANNOTATIONS = ['requires_approval', 'quorum', 'deadline', 'on_expiry'] as const;

export function requirementFromAnnotations(
  policyId: string,
  effect: 'permit' | 'forbid',
  annotations: Record<string, string>,
  defaultDeadlineSeconds: number,
): { requirement: ApprovalRequirement | null; problems: string[] } {
  const problems: string[] = [];
  const present = APPROVAL_ANNOTATIONS.filter((k) => k in annotations);
  if (present.length === 0) return { requirement: null, problems };
  if (effect === 'forbid') {
    return { requirement: null, problems: [`@${present[0]} is only allowed on permit policies (a forbid cannot be approved away)`] };
  }
  const groupsText = annotations.requires_approval;
  if (groupsText === undefined) {
    return { requirement: null, problems: [`@${present[0]} needs @requires_approval("<group>") on the same policy`] };
  }
  const groups = groupsText
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  if (groups.length === 0) problems.push('@requires_approval must name at least one group');

  const quorumText = annotations.quorum ?? '1';
  const quorum = /^[1-9][0-9]{0,2}$/.test(quorumText) ? Number(quorumText) : NaN;
  if (Number.isNaN(quorum)) problems.push(`@quorum("${quorumText}") must be a whole number from 1 to 999`);

  let deadlineSeconds = defaultDeadlineSeconds;
  if (annotations.deadline !== undefined) {
    try {
      deadlineSeconds = parseDuration(annotations.deadline);
    } catch (err) {
      problems.push(`@deadline: ${(err as Error).message}`);
    }
  }
  const onExpiry = annotations.on_expiry ?? 'expire';
  if (onExpiry !== 'expire') problems.push(`@on_expiry("${onExpiry}") is not supported; only "expire" (fail closed) is`);

  if (problems.length > 0) return { requirement: null, problems };
  return { requirement: { policyId, groups, quorum, deadlineSeconds, onExpiry: 'expire' }, problems };
}
