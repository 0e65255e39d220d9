import {
  allRequirementsMet,
  approvalsStillValid,
  checkDecision,
  digestOf,
  groupsStillAwaited,
  LIMITS,
  requirementProgress,
  signedDecisionSchema,
  type AcceptedDecision,
  type Advice,
  type AttemptContext,
  type AttemptRecord,
  type AttemptStatus,
  type DecisionChannel,
  type DecisionResult,
  type Enforcement,
  type Outcome,
  type Proposal,
  type RefusalCode,
  type RefusedDecision,
  type RequirementProgress,
  type TimelineEntry,
} from '../common';
import { publishVisibility } from './visibility';

const now = () => new Date().toISOString();

/**
 * Everything one attempt knows, and the only code that changes it. Handlers and the workflow body call its methods;
 * it never awaits, so message handlers cannot interleave inside a change.
 */
export class AttemptState {
  status: AttemptStatus = 'PROPOSED';
  context: AttemptContext | null = null;
  advice: Advice | null = null;
  deadlineMs: number | null = null;
  enforcement: Enforcement | null = null;
  outcome: Outcome | null = null;
  readonly accepted: AcceptedDecision[] = [];
  readonly refused: RefusedDecision[] = [];
  refusedTotal = 0;
  readonly timeline: TimelineEntry[] = [];
  #acceptingDecisions = false;

  constructor(
    readonly attemptId: string,
    readonly proposal: Proposal,
    readonly proposalHash: string,
  ) {
    this.timeline.push({ status: 'PROPOSED', at: now() });
  }

  /**
   * `publish: false` skips the search-attribute upsert for a status that ends within the same workflow task (its
   * upsert would reach visibility together with the next one, as one more history event and nothing else).
   */
  transition(status: AttemptStatus, note?: string, { publish = true }: { publish?: boolean } = {}): void {
    this.status = status;
    this.timeline.push(note ? { status, at: now(), note } : { status, at: now() });
    if (publish) this.#publish();
  }

  /** Enters AWAITING_DECISION with the earliest deadline of all requirements. */
  awaitDecision(advice: Advice): void {
    const seconds = Math.min(...advice.requirements.map((r) => r.deadlineSeconds));
    this.deadlineMs = Date.now() + seconds * 1000;
    this.#acceptingDecisions = true;
    this.transition('AWAITING_DECISION', advice.reasons.join('; '));
  }

  /** Ends the wait: decisions arriving during the re-check or later are refused and change nothing. */
  closeDecisions(): void {
    this.#acceptingDecisions = false;
  }

  get progress(): RequirementProgress[] {
    if (!this.advice || !this.context) return [];
    return requirementProgress(this.advice.requirements, this.accepted, this.context.directory);
  }

  get approved(): boolean {
    return this.advice?.verdict === 'require_approval' && allRequirementsMet(this.progress);
  }

  get rejected(): boolean {
    return this.accepted.some((d) => d.verdict === 'reject');
  }

  /** One code path for the `decision` signal and the `decide` update. Refusals are recorded, never thrown. */
  receiveDecision(payload: unknown, via: DecisionChannel): DecisionResult {
    const receivedAt = now();
    const parsed = signedDecisionSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#refuse(payload, via, receivedAt, 'malformed', `malformed decision: ${issue?.path.join('.') || 'payload'} ${issue?.message ?? ''}`.trim());
    }
    const decision = parsed.data;
    const check = checkDecision({
      decision,
      attemptId: this.attemptId,
      proposalHash: this.proposalHash,
      status: this.status,
      accepting: this.#acceptingDecisions,
      deadlineMs: this.deadlineMs,
      nowMs: Date.now(),
      directory: this.context?.directory ?? { version: '', agent: null, humans: {} },
      requirements: this.advice?.requirements ?? [],
      accepted: this.accepted,
    });
    if (!check.ok) return this.#refuse(decision, via, receivedAt, check.code, check.message);
    const { statement, signature } = decision;
    this.accepted.push({
      human: statement.human,
      verdict: statement.verdict,
      reason: statement.reason,
      decidedAt: statement.decidedAt,
      receivedAt,
      via,
      keyFingerprint: check.keyFingerprint,
      signature,
      statement,
    });
    this.#publish();
    const message = statement.verdict === 'reject' ? 'rejection accepted' : this.approved ? 'approval accepted; all requirements are met' : 'approval accepted; more approvals are needed';
    return { accepted: true, code: null, message, status: this.status };
  }

  /**
   * Re-check right before enforcement with fresh context and advice. Returns why the action must not run, or null.
   * Approvals only carry over if their signer is still registered with that key and still in a required group.
   */
  recheck(context: AttemptContext, advice: Advice): string | null {
    const before = this.context?.actionType?.version;
    if (before !== context.actionType?.version) {
      return `the action type's configuration changed since evaluation (${before ?? 'none'} → ${context.actionType?.version ?? 'none'})`;
    }
    if (advice.verdict === 'deny') return `policy now denies: ${[...advice.reasons, ...advice.errors].join('; ')}`;
    if (advice.verdict === 'require_approval') {
      const stillValid = approvalsStillValid(this.accepted.filter((d) => d.verdict === 'approve'), context.directory);
      const progress = requirementProgress(advice.requirements, stillValid, context.directory);
      const unmet = progress.filter((p) => !p.met);
      if (unmet.length > 0) {
        return `approvals now required that were not given: ${unmet.map((p) => `${p.policyId} needs ${p.quorum} from ${p.groups.join(' or ')} (has ${p.approvedBy.length})`).join('; ')}`;
      }
    }
    return null;
  }

  record(): AttemptRecord {
    const body: Omit<AttemptRecord, 'digest'> = {
      schema: 'ecp.record.v1',
      attemptId: this.attemptId,
      status: this.status,
      proposal: this.proposal,
      proposalHash: this.proposalHash,
      context: this.context,
      advice: this.advice,
      deadline: this.deadlineMs === null ? null : new Date(this.deadlineMs).toISOString(),
      requirements: this.progress,
      decisions: { accepted: this.accepted, refused: this.refused, refusedTotal: this.refusedTotal },
      enforcement: this.enforcement,
      outcome: this.outcome,
      timeline: this.timeline,
    };
    return { ...body, digest: digestOf(body) };
  }

  #refuse(payload: unknown, via: DecisionChannel, receivedAt: string, code: RefusalCode, message: string): DecisionResult {
    this.refusedTotal++;
    if (this.refused.length < LIMITS.refusedDecisionsKept) {
      const p = signedDecisionSchema.safeParse(payload);
      const loose = (payload ?? {}) as { statement?: { human?: unknown; verdict?: unknown }; signature?: unknown };
      this.refused.push({
        human: typeof loose.statement?.human === 'string' ? loose.statement.human.slice(0, 100) : null,
        verdict: typeof loose.statement?.verdict === 'string' ? loose.statement.verdict.slice(0, 20) : null,
        code,
        message,
        receivedAt,
        via,
        signature: p.success ? p.data.signature : null,
        statement: p.success ? p.data.statement : null,
      });
    }
    return { accepted: false, code, message, status: this.status };
  }

  #publish(): void {
    const waiting = this.status === 'AWAITING_DECISION';
    publishVisibility(this.proposal, this.proposalHash, this.status, waiting ? groupsStillAwaited(this.progress) : [], waiting ? this.deadlineMs : null);
  }
}
