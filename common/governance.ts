// Governance rules shared by the workflow, the auditor and the views (docs/governance.md). Sandbox-safe, zod-free.
import type { ApprovalRequirement } from './advice';

/** An escalation step that fired: the requirement it widened and the step (1-based). */
export interface FiredEscalation {
  policyId: string;
  step: number;
}

/** A requirement as it stands after escalation: `groups` widened, `escalatedTo` naming what was added. */
export type EffectiveRequirement = ApprovalRequirement & { escalatedTo?: string[] };

/**
 * The requirements with each fired escalation step applied. Escalation WIDENS: the escalation groups become eligible
 * besides the original ones (who may still decide); quorum and signature rules are unchanged. A step counts for the
 * requirement with the same policy id, so a re-check against fresh advice widens the fresh requirement the same way.
 */
export function widenRequirements(
  requirements: readonly ApprovalRequirement[],
  fired: readonly FiredEscalation[],
): EffectiveRequirement[] {
  return requirements.map((req) => {
    const steps = Math.max(0, ...fired.filter((f) => f.policyId === req.policyId).map((f) => f.step));
    if (steps === 0 || !req.escalations) return req;
    const added = [...new Set(req.escalations.slice(0, steps).flatMap((e) => e.groups))].filter((g) => !req.groups.includes(g));
    return { ...req, groups: [...req.groups, ...added], escalatedTo: added };
  });
}

/** The policy ids an override may name in this advice: requirements with `@override_by` (including overridable forbids). */
export function overridableIds(requirements: readonly ApprovalRequirement[]): string[] {
  return requirements.filter((r) => r.overrideBy).map((r) => r.policyId);
}

/** What a ratification waits for: the groups that may countersign and until when; null when nothing is to ratify. */
export interface RatificationWindow {
  groups: readonly string[];
  untilMs: number;
  ratified: boolean;
}
