import { canonicalJson } from '../../common/canonical';
import { keyFingerprint } from '../../common/statement';
import { allRequirementsMet, requirementProgress } from '../../common/decisionRules';
import { widenRequirements } from '../../common/governance';
import type { PinnedDirectory } from '../../common/directory';
import type { AttemptRecord } from '../../common/record';
import type { ApprovalRequirement } from '../../common/advice';
import { EVENT, eventsOf, localActivityType } from '../history';
import type { HistoryJson } from './schema';
import { fastDigestOf } from './verifyDigests';
import { findSigningKeyNode } from './verifySignature';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** Informational: reported, but does not decide PASS/FAIL. */
  advisory?: boolean;
}

/**
 * Each accepted decision: the signature verifies against a key the pinned directory registers to the named human,
 * the signed statement binds this attempt and this proposal hash, and the record's copy says what was signed.
 */
export function decisionChecks(record: AttemptRecord, attemptId: string, directory: PinnedDirectory): CheckResult[] {
  return record.decisions.accepted.map((d, i) => {
    const name = `decision[${i}] ${d.human} ${d.verdict}`;
    const fail = (detail: string): CheckResult => ({ name, ok: false, detail });
    const s = d.statement;
    if (!s) return fail('the record keeps no signed statement for this decision');
    if (s.attemptId !== attemptId) return fail(`the signed statement names attempt ${s.attemptId}, not ${attemptId}`);
    if (s.proposalHash !== record.proposalHash)
      return fail(`the signed statement approves proposal ${s.proposalHash}, not ${record.proposalHash}`);
    const mirrored = { human: s.human, verdict: s.verdict, reason: s.reason, decidedAt: s.decidedAt };
    const recorded = { human: d.human, verdict: d.verdict, reason: d.reason, decidedAt: d.decidedAt };
    if (canonicalJson(mirrored) !== canonicalJson(recorded)) return fail("the record's decision fields differ from the signed statement");
    const human = directory.humans[s.human];
    if (!human) return fail(`"${s.human}" is not in the pinned directory`);
    const key = findSigningKeyNode(s, d.signature, human.publicKeys);
    if (!key) return fail(`the Ed25519 signature does not verify against any key the pinned directory registers to "${s.human}"`);
    if (keyFingerprint(key) !== d.keyFingerprint)
      return fail(`signed with key ${keyFingerprint(key)}, but the record names key ${d.keyFingerprint}`);
    return { name, ok: true, detail: `signature by ${s.human} (key ${d.keyFingerprint}) over this attempt and proposal hash verifies` };
  });
}

/** Was the executor scheduled in history (as an activity or a local-activity marker)? */
function executorRan(history: HistoryJson): boolean {
  return eventsOf(history).some(
    (e) =>
      (e.eventType === EVENT.activityScheduled && e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeAction') ||
      localActivityType(e) === 'executeAction',
  );
}

/**
 * Separation of duties and quorum, recomputed from the signed decisions and the pinned directory — not read from the
 * record: no agent and no owner of the agent decided, every decider is in a required group, approvers are distinct,
 * the requirements were really met when the action ran (or really unmet when it expired), and the executor appears
 * in history exactly when the record says the action was authorised to run.
 */
export function authorityCheck(record: AttemptRecord, directory: PinnedDirectory, history: HistoryJson): CheckResult {
  const name = 'authority (separation of duties, quorum)';
  const problems: string[] = [];
  const accepted = record.decisions.accepted;
  const agent = directory.agent;
  // Escalation steps the record says fired widen the requirements, as they did in the workflow (docs/governance.md).
  const requirements = widenRequirements(record.advice?.requirements ?? [], record.governance?.escalations ?? []);
  problems.push(...escalationProblems(record));
  const requiredGroups = new Set(requirements.flatMap((r) => r.groups));
  const seen = new Set<string>();
  for (const d of accepted) {
    if (agent && d.human === agent.id) problems.push(`the agent "${agent.id}" decided on its own attempt`);
    if (agent && d.human === agent.owner) problems.push(`"${d.human}" owns the agent "${agent.id}" and decided on its attempt`);
    const groups = directory.humans[d.human]?.groups ?? [];
    if (d.verdict === 'override') problems.push(...overrideProblems(d, groups, requirements));
    else if (d.verdict === 'ratify') {
      const ratifiers = record.governance?.ratification?.groups ?? [];
      if (!groups.some((g) => ratifiers.includes(g))) problems.push(`"${d.human}" ratified but is in none of the ratifying groups`);
    } else if (!groups.some((g) => requiredGroups.has(g))) problems.push(`"${d.human}" is in none of the required groups`);
    if (seen.has(d.human)) problems.push(`"${d.human}" counted twice`);
    seen.add(d.human);
  }
  const progress = requirementProgress(requirements, accepted, directory);
  const met = requirements.length > 0 && allRequirementsMet(progress);
  const rejected = accepted.some((d) => d.verdict === 'reject');
  if (canonicalJson(progress) !== canonicalJson(record.requirements))
    problems.push("the record's requirement progress differs from the one recomputed from its decisions");
  const ran = executorRan(history);
  const executed = record.status === 'SUCCEEDED' || record.status === 'FAILED';
  const verdict = record.advice?.verdict ?? null;
  if (ran !== executed)
    problems.push(
      ran
        ? `the executor ran, but the record's status is ${record.status}`
        : `the record says ${record.status}, but the executor never ran`,
    );
  if (executed) {
    if (record.enforcement?.verdict !== 'execute') problems.push('the action ran without an "execute" enforcement verdict');
    if (verdict === 'deny' || verdict === null) problems.push(`the action ran although the advice was ${verdict ?? 'missing'}`);
    if (verdict === 'require_approval' && !met) problems.push(`the action ran without the required approvals: ${describe(progress)}`);
    if (rejected) problems.push('the action ran although a rejection was accepted');
  }
  if (record.status === 'REJECTED' && !rejected) problems.push('the status is REJECTED but no rejection was accepted');
  if (record.status === 'EXPIRED' && (met || rejected)) problems.push('the status is EXPIRED although the decision was made');
  if (problems.length > 0) return { name, ok: false, detail: problems.join('; ') };
  const summary = requirements.length === 0 ? `no approval required (advice ${verdict ?? 'none'})` : describe(progress);
  return {
    name,
    ok: true,
    detail: `${record.status}: ${summary}; ${accepted.length} accepted decision(s) from distinct humans, none by the agent or its owner`,
  };
}

/** An override: justified, naming only requirements this advice marks overridable, by a human of their override group. */
function overrideProblems(d: AttemptRecord['decisions']['accepted'][number], groups: readonly string[], requirements: readonly ApprovalRequirement[]): string[] {
  const problems: string[] = [];
  if (d.reason.trim() === '') problems.push(`the override by "${d.human}" has no justification`);
  const named = d.statement.overrides ?? [];
  if (named.length === 0) problems.push(`the override by "${d.human}" names no policy`);
  for (const id of named) {
    const req = requirements.find((r) => r.policyId === id);
    if (!req?.overrideBy) problems.push(`the override by "${d.human}" names ${id}, which the advice does not mark overridable`);
    else if (!groups.some((g) => req.overrideBy!.includes(g)))
      problems.push(`"${d.human}" overrode ${id} but is in none of its override groups (${req.overrideBy.join(', ')})`);
  }
  return problems;
}

/** Each escalation step the record lists exists in the advice and fired no earlier than its window allows. */
function escalationProblems(record: AttemptRecord): string[] {
  const problems: string[] = [];
  const waitStart = record.timeline.find((t) => t.status === 'AWAITING_DECISION' && !t.event)?.at;
  for (const e of record.governance?.escalations ?? []) {
    const step = record.advice?.requirements.find((r) => r.policyId === e.policyId)?.escalations?.[e.step - 1];
    if (!step) problems.push(`escalation ${e.policyId} step ${e.step} is not in the advice`);
    else if (!waitStart || Date.parse(e.at) < Date.parse(waitStart) + step.afterSeconds * 1000)
      problems.push(`escalation ${e.policyId} step ${e.step} fired before its ${step.afterSeconds}s window`);
  }
  return problems;
}

/**
 * Overrides, flagged for the auditor (advisory: an override is legitimate authority, but never unremarkable): who
 * overrode what, with which justification, and whether a required ratification came within its window.
 */
export function overrideChecks(record: AttemptRecord): CheckResult[] {
  const overrides = record.decisions.accepted.filter((d) => d.verdict === 'override');
  const checks: CheckResult[] = overrides.map((d) => ({
    name: `OVERRIDDEN by ${d.human}`,
    ok: true,
    advisory: true,
    detail: `break-glass override of ${(d.statement.overrides ?? []).join(', ')} at ${d.receivedAt}; justification: ${d.reason}`,
  }));
  const r = record.governance?.ratification;
  if (r) {
    const inTime = r.ratifiedAt !== null && Date.parse(r.ratifiedAt) <= Date.parse(r.until);
    checks.push({
      name: 'override ratification',
      ok: inTime,
      advisory: true,
      detail: inTime
        ? `ratified by ${r.ratifiedBy} at ${r.ratifiedAt} (window until ${r.until})`
        : `UNRATIFIED: no countersignature from ${r.groups.join(' or ')} by ${r.until}${r.ratifiedAt ? ` (late: ${r.ratifiedAt})` : ''}`,
    });
  }
  return checks;
}

function describe(progress: ReturnType<typeof requirementProgress>): string {
  return progress
    .map(
      (p) =>
        `${p.policyId} ${p.approvedBy.length}/${p.quorum} from ${p.groups.join(' or ')}${p.approvedBy.length ? ` (${p.approvedBy.join(', ')})` : ''}${p.overriddenBy?.length ? ` OVERRIDDEN by ${p.overriddenBy.join(', ')}` : ''}`,
    )
    .join('; ');
}

/** The record's own digest: SHA-256 over the canonical JSON of everything but `digest`. */
export function recordDigestCheck(record: AttemptRecord): CheckResult {
  const { digest, ...body } = record;
  const computed = fastDigestOf(body);
  return computed === digest
    ? { name: 'record.digest', ok: true, detail: `the record's own digest ${digest} recomputes` }
    : { name: 'record.digest', ok: false, detail: `the record says ${digest}, its content hashes to ${computed}` };
}
