import type { z } from 'zod';
import { compareClaims } from '../common/claims';
import { checkDecision, deciderCheck, decisionsStillOpen, type AttemptDecisionState } from '../common/decisionRules';
import type { AttemptRecord } from '../common/record';
import { decisionStatement } from '../common/statement';
import { textWarnings, type TextWarning } from '../common/textWarnings';
import type { attemptViewSchema } from './schemas';

/**
 * The console API's answer for one attempt (its schema, api/schemas.ts, is the one the OpenAPI document shows): the
 * record, claims beside facts, text warnings, whether this human may decide, and the one-line summary (added by the route).
 */
export type AttemptView = z.output<typeof attemptViewSchema>;

/**
 * What the console shows for one attempt: the record itself, the claims-vs-facts comparison, warnings for strings
 * that may imitate another value (common/textWarnings.ts, the same rule as `ecp show`), and whether this human
 * may decide — the workflow's own rule (`deciderCheck`) on the state the record holds. It only decides whether
 * buttons are offered; the workflow checks every decision again.
 */
export function attemptView(record: AttemptRecord, human: string, now = Date.now()): Omit<AttemptView, 'summary'> {
  return {
    record,
    claims: compareClaims(record.proposal.claims, record.context?.facts ?? null),
    textWarnings: proposalTextWarnings(record),
    viewer: viewer(record, human, now),
    serverTime: new Date(now).toISOString(),
  };
}

/** Whether `human` may decide on the attempt this record shows, and if not, the workflow's reason. */
function viewer(record: AttemptRecord, human: string, now: number): AttemptView['viewer'] {
  const state = decisionState(record, now);
  const check = deciderCheck(state, human);
  const decide = check.ok ? { mayDecide: true, why: null } : { mayDecide: false, why: check.message };
  return { ...decide, ...overrideViewer(record, state, human), ...ratifyViewer(record, state, human) };
}

/** The attempt as the decision rules see it, from what the record holds. */
function decisionState(record: AttemptRecord, now: number): AttemptDecisionState {
  return {
    attemptId: record.attemptId,
    proposalHash: record.proposalHash,
    status: record.status,
    accepting: record.status === 'AWAITING_DECISION' && decisionsStillOpen(record.requirements, record.decisions.accepted),
    deadlineMs: record.deadline ? Date.parse(record.deadline) : null,
    nowMs: now,
    // What the workflow checks against: the pinned directory and the requirements as they stand now — widened by any
    // escalation step that fired (the record's `requirements`), so an escalation group's human is offered the decision.
    directory: record.context?.directory ?? { version: '', agent: null, humans: {} },
    requirements: record.requirements.length ? record.requirements : (record.advice?.requirements ?? []),
    accepted: record.decisions.accepted,
  };
}

/**
 * Whether `human` may submit a break-glass override, and of which policy ids: the unmet overridable requirements
 * whose `@override_by` groups include one of theirs, checked with the workflow's own rule (`checkDecision`) on the
 * override they would sign (any registered key stands in for the signature). Advisory, like `mayDecide`.
 */
function overrideViewer(
  record: AttemptRecord,
  state: AttemptDecisionState,
  human: string,
): Pick<AttemptView['viewer'], 'mayOverride' | 'overridable' | 'whyNoOverride'> {
  const groups = state.directory.humans[human]?.groups ?? [];
  const overridable = record.requirements.filter((r) => !r.met && r.overrideBy?.some((g) => groups.includes(g))).map((r) => r.policyId);
  if (!record.requirements.some((r) => r.overrideBy && !r.met))
    return { mayOverride: false, overridable: [], whyNoOverride: 'nothing on this attempt can be overridden' };
  if (overridable.length === 0)
    return { mayOverride: false, overridable: [], whyNoOverride: `"${human}" is in none of the groups that may override it` };
  const check = checkDecision(
    {
      ...state,
      decision: {
        statement: {
          v: 1,
          attemptId: state.attemptId,
          proposalHash: state.proposalHash,
          verdict: 'override',
          human,
          reason: 'justification',
          decidedAt: new Date(state.nowMs).toISOString(),
          overrides: overridable,
        },
        signature: '',
      },
    },
    (_decision, keys) => keys[0] ?? null,
  );
  return check.ok
    ? { mayOverride: true, overridable, whyNoOverride: null }
    : { mayOverride: false, overridable: [], whyNoOverride: check.message };
}

/**
 * Whether `human` may countersign (ratify) the attempt's accepted override now: `checkDecision` on the ratification
 * they would sign, against the window the record holds (groups, end, whether ratified). `whyNoRatify` is null when
 * nothing awaits ratification; otherwise it says why not (wrong group, the overrider themself, the window passed).
 * Advisory, like `mayDecide`: the workflow checks the signed ratification again.
 */
function ratifyViewer(
  record: AttemptRecord,
  state: AttemptDecisionState,
  human: string,
): Pick<AttemptView['viewer'], 'mayRatify' | 'whyNoRatify'> {
  const window = record.governance?.ratification;
  if (!window || window.ratifiedBy) return { mayRatify: false, whyNoRatify: null };
  if (record.timeline.some((t) => t.event === 'ratification_missed'))
    return { mayRatify: false, whyNoRatify: `the ratification window ended at ${window.until}; the override stays flagged unratified` };
  // The overrider is refused by the workflow as `duplicate_approver`; say it in the words of the rule it enforces.
  if (record.decisions.accepted.some((d) => d.verdict === 'override' && d.human === human))
    return { mayRatify: false, whyNoRatify: `"${human}" made the override; a second human must ratify it` };
  const check = checkDecision(
    {
      ...state,
      ratification: { groups: window.groups, untilMs: Date.parse(window.until), ratified: false },
      decision: {
        statement: decisionStatement({
          attemptId: state.attemptId,
          proposalHash: state.proposalHash,
          verdict: 'ratify',
          human,
          decidedAt: new Date(state.nowMs),
        }),
        signature: '',
      },
    },
    (_decision, keys) => keys[0] ?? null,
  );
  return check.ok ? { mayRatify: true, whyNoRatify: null } : { mayRatify: false, whyNoRatify: check.message };
}

/** Text warnings for a record's parameters and claims, as the console API and `ecp show` report them. */
export function proposalTextWarnings(record: Pick<AttemptRecord, 'proposal'>): TextWarning[] {
  return [...textWarnings(record.proposal.parameters, 'parameters'), ...textWarnings(record.proposal.claims ?? {}, 'claims')];
}
