import { ApplicationFailure } from '@temporalio/workflow';
import {
  allRequirementsMet,
  approvalsStillValid,
  checkDecision,
  digestOf,
  FailureType,
  findSigningKey,
  formatPath,
  groupsStillAwaited,
  issuePath,
  LIMITS,
  plainIssue,
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
  type PinnedActionType,
  type Proposal,
  type RefusalCode,
  type RefusedDecision,
  type RequirementProgress,
  type SignedDecision,
  type TimelineEntry,
  widenRequirements,
  type EffectiveRequirement,
  type RatificationWindow,
} from '../common';
import { GovernanceState } from './governanceState';
import { publishVisibility } from './visibility';

const iso = (ms: number) => new Date(ms).toISOString();

/** Refusals an update validator may decide without trace: nobody with a registered key stands behind them. */
const UNATTRIBUTED: ReadonlySet<RefusalCode> = new Set<RefusalCode>([
  'malformed',
  'not_awaiting',
  'nothing_to_ratify',
  'deadline_passed',
  'wrong_attempt',
  'wrong_proposal_hash',
  'unknown_human',
  'unknown_key',
  'bad_signature',
]);

/**
 * How decisions are taken in. `bounded` (attempts started by this version): a decision must name its key, the
 * `decide` validator refuses unattributable decisions before they reach history, refusals kept in the record are
 * capped per human, and signals are taken a slice per workflow task (see `SignalIntake`). Older attempts replay with
 * the rules they ran with.
 */
export interface DecisionIntake {
  bounded: boolean;
  /** Governance controls (GOVERNANCE_PATCH): escalation, reminders, early re-check, ratification window. */
  governance?: boolean;
}

/** The statuses an attempt ends in; {@link AttemptState.close} takes only these. */
export type ClosingStatus = 'SUCCEEDED' | 'FAILED' | 'DENIED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED';

/**
 * Everything one attempt knows, and the only code that changes it: the workflow body calls one method per lifecycle
 * step (`evaluating`, `gathered`, `evaluated`, `awaitDecision`, `closeDecisions`, `enforce`, `executing`, `executed`,
 * `close`) and message handlers call `receiveDecision`; everything else reads through getters, so the compiler keeps
 * it that way. It never awaits, so message handlers cannot interleave inside a change.
 */
export class AttemptState {
  #status: AttemptStatus = 'PROPOSED';
  #context: AttemptContext | null = null;
  #advice: Advice | null = null;
  #deadlineMs: number | null = null;
  #enforcement: Enforcement | null = null;
  #outcome: Outcome | null = null;
  readonly #accepted: AcceptedDecision[] = [];
  readonly #refused: RefusedDecision[] = [];
  #refusedTotal = 0;
  readonly #timeline: TimelineEntry[] = [];
  #acceptingDecisions = false;
  readonly #keptPerHuman = new Map<string, number>();
  /** Signatures already found valid (by the update validator, then again by its handler): verified once. */
  readonly #verified = new Map<string, string>();
  #signatureChecks = 0;
  readonly #governance = new GovernanceState();
  #controlsChanged = false;
  /** The time of the latest timeline entry (epoch ms): no entry is timed before it. */
  #lastAtMs = 0;

  constructor(
    readonly attemptId: string,
    readonly proposal: Proposal,
    readonly proposalHash: string,
    readonly intake: DecisionIntake = { bounded: false },
  ) {
    this.#push({ status: 'PROPOSED' }, Date.now());
  }

  /**
   * The time (epoch ms) of what the lifecycle does right after an evaluation, until it next waits. The workflow clock
   * there is not reproducible: when a query is answered while the evaluation local activity completes, the SDK core
   * delivers its result in the next workflow task and the clock shows that task's start, while replay delivers it
   * where the marker is recorded, with an earlier time. So an evaluation that recorded when it ended times them by
   * that (never before the latest timeline entry); older results keep the workflow clock, as they were recorded.
   */
  timeAfter(evaluation: { endedAtMs: number | null }): number {
    const ended = evaluation.endedAtMs;
    return ended === null ? Date.now() : Math.max(this.#lastAtMs, ended);
  }

  get status(): AttemptStatus {
    return this.#status;
  }

  /** The context pinned at evaluation (null before it, or when gathering it failed). */
  get context(): AttemptContext | null {
    return this.#context;
  }

  /** The advice given at evaluation (null before it, or when the policy could not be evaluated). */
  get advice(): Advice | null {
    return this.#advice;
  }

  /** When the wait for decisions ends (epoch ms); null unless the attempt has awaited a decision. */
  get deadlineMs(): number | null {
    return this.#deadlineMs;
  }

  get enforcement(): Enforcement | null {
    return this.#enforcement;
  }

  get outcome(): Outcome | null {
    return this.#outcome;
  }

  get accepted(): readonly AcceptedDecision[] {
    return this.#accepted;
  }

  /** Ed25519 verifications run so far (the costly part of taking a decision), for `SignalIntake`'s budget. */
  get signatureChecks(): number {
    return this.#signatureChecks;
  }

  /**
   * PROPOSED → EVALUATING. `publish: false` skips the search-attribute upsert when evaluation ends within the same
   * workflow task (its upsert would reach visibility together with the next one, as one more history event and
   * nothing else).
   */
  evaluating({ publish }: { publish: boolean }): void {
    this.#transition('EVALUATING', undefined, { publish });
  }

  /** Pins the context the plane gathered; kept in the record even if the policy then cannot be evaluated. */
  gathered(context: AttemptContext): void {
    this.#context = context;
  }

  /** Pins the policy's advice on the gathered context. */
  evaluated(advice: Advice): void {
    this.#advice = advice;
  }

  /** EVALUATING → AWAITING_DECISION at `atMs` (see `timeAfter`), with the earliest deadline of all the advice's requirements. */
  awaitDecision(atMs: number = Date.now()): void {
    const advice = this.#advice;
    if (advice?.verdict !== 'require_approval') throw new Error('awaitDecision: the advice does not require approval');
    const seconds = Math.min(...advice.requirements.map((r) => r.deadlineSeconds));
    this.#deadlineMs = atMs + seconds * 1000;
    this.#acceptingDecisions = true;
    if (this.intake.governance) this.#governance.plan(advice.requirements, atMs, this.#deadlineMs);
    this.#transition('AWAITING_DECISION', advice.reasons.join('; '), { atMs });
  }

  /** When the wait must wake for the next escalation or reminder (epoch ms), or null. */
  get nextGovernanceMs(): number | null {
    return this.intake.governance ? this.#governance.nextDueMs : null;
  }

  /** Fires the escalations and reminders due at `nowMs` (timeline entries; escalation widens the eligible groups). */
  governanceDue(nowMs: number = Date.now()): void {
    if (!this.intake.governance || this.#status !== 'AWAITING_DECISION') return;
    const notes = this.#governance.takeDue(nowMs, this.progress, iso(nowMs));
    for (const note of notes) this.#event(note.startsWith('escalated') ? 'escalated' : 'reminder', note, nowMs);
    if (notes.some((n) => n.startsWith('escalated'))) this.#publish(); // inboxes follow the widened groups
  }

  /** The `controlsChanged` signal: a waiting attempt re-checks now (see `controlsRecheck`). */
  controlsChanged(): void {
    if (this.#status === 'AWAITING_DECISION') this.#controlsChanged = true;
  }

  /** True while a `controlsChanged` signal waits for its re-check. */
  get controlsRecheckPending(): boolean {
    return this.#controlsChanged && this.#status === 'AWAITING_DECISION' && !this.decided;
  }

  /**
   * The early re-check while waiting, with fresh context and advice: returns why the attempt can no longer run (the
   * policy now denies — a freeze shows up this way — or the action type changed), recording that enforcement verdict
   * and ending the wait; null when it may keep waiting. Timed at `atMs` (see `timeAfter`).
   */
  controlsRecheck(context: AttemptContext, advice: Advice, atMs: number = Date.now()): string | null {
    this.#controlsChanged = false;
    this.#governance.controlsRechecked();
    const before = this.#context?.actionType?.version;
    const blocked =
      before !== context.actionType?.version
        ? `the action type's configuration changed since evaluation (${before ?? 'none'} → ${context.actionType?.version ?? 'none'})`
        : advice.verdict === 'deny'
          ? `policy now denies: ${[...advice.reasons, ...advice.errors].join('; ')}`
          : null;
    this.#event(
      'controls_changed',
      blocked ? `controls changed; re-check blocks: ${blocked}` : 'controls changed; re-check: may keep waiting',
      atMs,
    );
    if (!blocked) return null;
    this.#acceptingDecisions = false;
    this.#enforcement = {
      verdict: 'blocked',
      recheckAdvice: advice,
      recheckContext: context,
      blockedReason: blocked,
      idempotencyKey: this.attemptId,
      at: iso(atMs),
    };
    return blocked;
  }

  /** The ratification an accepted override still awaits (its window), or null. */
  get ratificationPending(): RatificationWindow | null {
    const r = this.#governance.ratification;
    if (!this.intake.governance || !r || r.ratifiedBy) return null;
    return { groups: r.groups, untilMs: Date.parse(r.until), ratified: false };
  }

  /** The ratification window closed without a countersignature: flagged in the timeline (and audit output). */
  ratificationMissed(atMs: number = Date.now()): void {
    const r = this.#governance.ratification;
    if (r && !r.ratifiedBy) this.#event('ratification_missed', `override not ratified by ${r.groups.join(' or ')} before ${r.until}`, atMs);
  }

  /** Ends the wait: decisions arriving during the re-check or later are refused and change nothing. */
  closeDecisions(): void {
    this.#acceptingDecisions = false;
  }

  /**
   * Records the enforcement verdict from the re-check right before enforcement (fresh context and advice; the very
   * evaluation on an automatic allow) and returns why the action must not run, or null when it may. Timed at `atMs`
   * (see `timeAfter`).
   */
  enforce(recheckContext: AttemptContext, recheckAdvice: Advice, atMs: number = Date.now()): string | null {
    const blockedReason = this.#recheck(recheckContext, recheckAdvice);
    this.#enforcement = {
      verdict: blockedReason ? 'blocked' : 'execute',
      recheckAdvice,
      recheckContext,
      blockedReason,
      idempotencyKey: this.attemptId,
      at: iso(atMs),
    };
    return blockedReason;
  }

  /** The action type pinned by the enforcement's re-check: the executor runs exactly that version. */
  get authorisedActionType(): PinnedActionType {
    const actionType = this.#enforcement?.verdict === 'execute' ? this.#enforcement.recheckContext?.actionType : null;
    if (!actionType) throw new Error('no action type was authorised for execution');
    return actionType;
  }

  /** → EXECUTING at `atMs`: the enforcement said execute. */
  executing(atMs: number = Date.now()): void {
    this.#transition('EXECUTING', undefined, { atMs });
  }

  /** Pins what the executor returned or how it failed. */
  executed(outcome: Outcome): void {
    this.#outcome = outcome;
  }

  /** → a terminal status at `atMs`, with the note a person reads in the timeline. */
  close(status: ClosingStatus, note?: string, atMs: number = Date.now()): void {
    this.#transition(status, note, { atMs });
  }

  /** True once the wait can end: requirements met or a rejection accepted. */
  get decided(): boolean {
    return this.approved || this.rejected;
  }

  get progress(): RequirementProgress[] {
    if (!this.#advice || !this.#context) return [];
    return requirementProgress(this.#requirements, this.#accepted, this.#context.directory);
  }

  /** The advice's requirements, widened by the escalation steps that fired. */
  get #requirements(): EffectiveRequirement[] {
    const requirements = this.#advice?.requirements ?? [];
    return this.intake.governance ? widenRequirements(requirements, this.#governance.fired) : requirements;
  }

  get approved(): boolean {
    return this.#advice?.verdict === 'require_approval' && allRequirementsMet(this.progress);
  }

  get rejected(): boolean {
    return this.#accepted.some((d) => d.verdict === 'reject');
  }

  /** The reason of the accepted rejection, if there is one. */
  get rejectionReason(): string | undefined {
    return this.#accepted.find((d) => d.verdict === 'reject')?.reason;
  }

  /**
   * Validator of the `decide` update (bounded intake): throws, leaving no trace in history, for a decision nobody with
   * a registered key stands behind (malformed, stale, for another attempt, unknown human or key, bad signature) and
   * for an attributable refusal once that human already has `refusedKeptPerHuman` refusals in the record. Costs at
   * most one signature check; Temporal admits few updates at a time, so a validator flood is bounded per task.
   */
  validateDecision(payload: unknown): void {
    const parsed = this.#parse(payload);
    if (!parsed.ok) throw decisionRefused(parsed.code, parsed.message, this.#status);
    if (!this.intake.bounded) return; // attempts started before bounded intake: shape only, as then
    const check = checkDecision(this.#checkInput(parsed.decision, Date.now()), this.#findKey);
    if (check.ok) return;
    if (UNATTRIBUTED.has(check.code)) throw decisionRefused(check.code, check.message, this.#status);
    if (!this.#keepsRefusalOf(parsed.decision.statement.human)) {
      throw decisionRefused(
        check.code,
        `${check.message} (further refusals for "${parsed.decision.statement.human}" are not recorded)`,
        this.#status,
      );
    }
  }

  /** One code path for the `decision` signal and the `decide` update. Refusals are recorded, never thrown. */
  receiveDecision(payload: unknown, via: DecisionChannel): DecisionResult {
    const receivedAt = iso(Date.now());
    const parsed = this.#parse(payload);
    if (!parsed.ok) return this.#refuse(payload, via, receivedAt, parsed.code, parsed.message);
    const decision = parsed.decision;
    const check = checkDecision(this.#checkInput(decision, Date.now()), this.#findKey);
    if (!check.ok) return this.#refuse(decision, via, receivedAt, check.code, check.message);
    const { statement, signature } = decision;
    const accepted: AcceptedDecision = {
      human: statement.human,
      verdict: statement.verdict,
      reason: statement.reason,
      decidedAt: statement.decidedAt,
      receivedAt,
      via,
      keyFingerprint: check.keyFingerprint,
      signature,
      statement,
    };
    this.#accepted.push(accepted);
    if (statement.verdict === 'override') {
      const named = this.#requirements.filter((r) => statement.overrides?.includes(r.policyId));
      this.#governance.overrideAccepted(named, Date.now());
      this.#event('overridden', `OVERRIDDEN by ${statement.human} (${named.map((r) => r.policyId).join(', ')}): ${statement.reason}`);
    }
    if (statement.verdict === 'ratify') {
      this.#governance.ratified(accepted);
      this.#event('ratified', `override ratified by ${statement.human}`);
      return { accepted: true, code: null, message: 'ratification accepted', status: this.#status };
    }
    this.#publish();
    const message =
      statement.verdict === 'reject'
        ? 'rejection accepted'
        : statement.verdict === 'override'
          ? this.approved
            ? 'override accepted; all requirements are met (the re-check still runs)'
            : 'override accepted; other requirements still need decisions'
          : this.approved
            ? 'approval accepted; all requirements are met'
            : 'approval accepted; more approvals are needed';
    return { accepted: true, code: null, message, status: this.#status };
  }

  /**
   * Re-check right before enforcement with fresh context and advice. Returns why the action must not run, or null.
   * Approvals only carry over if their signer is still registered with that key and still in a required group.
   */
  #recheck(context: AttemptContext, advice: Advice): string | null {
    const before = this.#context?.actionType?.version;
    if (before !== context.actionType?.version) {
      return `the action type's configuration changed since evaluation (${before ?? 'none'} → ${context.actionType?.version ?? 'none'})`;
    }
    if (advice.verdict === 'deny') return `policy now denies: ${[...advice.reasons, ...advice.errors].join('; ')}`;
    if (advice.verdict === 'require_approval') {
      const stillValid = approvalsStillValid(
        this.#accepted.filter((d) => d.verdict === 'approve' || d.verdict === 'override'),
        context.directory,
      );
      // Escalation steps that fired widen the fresh requirements the same way (by policy id).
      const requirements = this.intake.governance ? widenRequirements(advice.requirements, this.#governance.fired) : advice.requirements;
      const progress = requirementProgress(requirements, stillValid, context.directory);
      const unmet = progress.filter((p) => !p.met);
      if (unmet.length > 0) {
        return `approvals now required that were not given: ${unmet.map((p) => (p.kind === 'override' ? `${p.policyId} forbids it unless overridden by ${(p.overrideBy ?? []).join(' or ')}` : `${p.policyId} needs ${p.quorum} from ${p.groups.join(' or ')} (has ${p.approvedBy.length})`)).join('; ')}`;
      }
    }
    return null;
  }

  record(): AttemptRecord {
    const body: Omit<AttemptRecord, 'digest'> = {
      schema: 'ecp.record.v1',
      attemptId: this.attemptId,
      status: this.#status,
      proposal: this.proposal,
      proposalHash: this.proposalHash,
      context: this.#context,
      advice: this.#advice,
      deadline: this.#deadlineMs === null ? null : iso(this.#deadlineMs),
      requirements: this.progress,
      decisions: { accepted: this.#accepted, refused: this.#refused, refusedTotal: this.#refusedTotal },
      enforcement: this.#enforcement,
      outcome: this.#outcome,
      timeline: this.#timeline,
      ...(this.intake.governance ? { governance: this.#governance.record() } : {}),
    };
    return { ...body, digest: digestOf(body) };
  }

  #checkInput(decision: SignedDecision, nowMs: number) {
    return {
      decision,
      attemptId: this.attemptId,
      proposalHash: this.proposalHash,
      status: this.#status,
      accepting: this.#acceptingDecisions,
      deadlineMs: this.#deadlineMs,
      nowMs,
      directory: this.#context?.directory ?? { version: '', agent: null, humans: {} },
      requirements: this.#requirements,
      accepted: this.#accepted,
      requireKey: this.intake.bounded,
      ratification: this.ratificationPending,
    };
  }

  #parse(payload: unknown): { ok: true; decision: SignedDecision } | { ok: false; code: 'malformed'; message: string } {
    const parsed = signedDecisionSchema.safeParse(payload);
    if (parsed.success) return { ok: true, decision: parsed.data };
    const issue = parsed.error.issues[0];
    if (!this.intake.bounded) {
      return {
        ok: false,
        code: 'malformed',
        message: `malformed decision: ${issue?.path.join('.') || 'payload'} ${issue?.message ?? ''}`.trim(),
      };
    }
    const path = formatPath(issuePath(issue));
    return {
      ok: false,
      code: 'malformed',
      message: `invalid decision: ${path ? `field "${path}"` : 'the payload'} ${plainIssue(issue, 'signed decision')}`,
    };
  }

  /** Signature check, remembered per human and signature: a validated update is not verified twice. */
  readonly #findKey = (decision: SignedDecision, keys: readonly string[]): string | null => {
    const memo = `${decision.statement.human}:${decision.signature}`;
    const known = this.#verified.get(memo);
    if (known !== undefined && keys.includes(known)) return known;
    this.#signatureChecks++;
    const key = findSigningKey(decision, keys);
    if (key) this.#verified.set(memo, key);
    return key;
  };

  #keepsRefusalOf(human: string | null): boolean {
    if (!this.intake.bounded) return this.#refused.length < LIMITS.refusedDecisionsKept;
    return this.#refused.length < LIMITS.refusedDecisionsKept && (this.#keptPerHuman.get(human ?? '') ?? 0) < LIMITS.refusedKeptPerHuman;
  }

  #refuse(payload: unknown, via: DecisionChannel, receivedAt: string, code: RefusalCode, message: string): DecisionResult {
    this.#refusedTotal++;
    const loose = (payload ?? {}) as { statement?: { human?: unknown; verdict?: unknown }; signature?: unknown };
    const human = typeof loose.statement?.human === 'string' ? loose.statement.human.slice(0, 100) : null;
    if (this.#keepsRefusalOf(human)) {
      const p = signedDecisionSchema.safeParse(payload);
      this.#keptPerHuman.set(human ?? '', (this.#keptPerHuman.get(human ?? '') ?? 0) + 1);
      this.#refused.push({
        human,
        verdict: typeof loose.statement?.verdict === 'string' ? loose.statement.verdict.slice(0, 20) : null,
        code,
        message,
        receivedAt,
        via,
        signature: p.success ? p.data.signature : null,
        statement: p.success ? p.data.statement : null,
      });
    }
    return { accepted: false, code, message, status: this.#status };
  }

  /** A timeline entry for a governance event that does not change the status. */
  #event(event: NonNullable<TimelineEntry['event']>, note: string, atMs: number = Date.now()): void {
    this.#push({ status: this.#status, note, event }, atMs);
  }

  #transition(
    status: AttemptStatus,
    note?: string,
    { publish = true, atMs = Date.now() }: { publish?: boolean; atMs?: number } = {},
  ): void {
    this.#status = status;
    this.#push(note ? { status, note } : { status }, atMs);
    if (publish) this.#publish();
  }

  #push(entry: Omit<TimelineEntry, 'at'>, atMs: number): void {
    // `at` right after `status` (the key order records have always had).
    const { status, ...rest } = entry;
    this.#timeline.push({ status, at: iso(atMs), ...rest } as TimelineEntry);
    this.#lastAtMs = Math.max(this.#lastAtMs, atMs);
  }

  #publish(): void {
    const waiting = this.#status === 'AWAITING_DECISION';
    publishVisibility(
      this.proposal,
      this.proposalHash,
      this.#status,
      waiting ? groupsStillAwaited(this.progress) : [],
      waiting ? this.#deadlineMs : null,
    );
  }
}

/** The failure a refused `decide` update carries; clients turn it back into a `DecisionResult`. */
function decisionRefused(code: RefusalCode, message: string, status: AttemptStatus): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.DecisionRefused, message, nonRetryable: true, details: [{ code, status }] });
}
