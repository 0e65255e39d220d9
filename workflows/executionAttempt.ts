import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlaneActivities } from '../activities';
import {
  attemptIdFor,
  decideUpdate,
  EXECUTOR_HEARTBEAT_TIMEOUT,
  decisionSignal,
  EcpError,
  FailureType,
  FINAL_EXECUTOR_FAILURES,
  proposalHash,
  recordQuery,
  type AttemptRecord,
  type JsonValue,
  type PinnedActionType,
  type ProposalInput,
  INTEGRITY_PATCH,
  GOVERNANCE_PATCH,
  QUIET_WAIT_PATCH,
  ONE_STEP_EVALUATION_PATCH,
  controlsChangedSignal,
} from '../common';
import { AttemptState, type ClosingStatus } from './attemptState';
import { evaluatorFor } from './evaluation';
import { SignalIntake } from './signalIntake';
import { parseProposalShape, parseStartProposalHashed } from '../common/proposal';
import { assertListingSeal } from './visibility';

export interface ExecutionAttemptInput {
  proposal: ProposalInput;
}

/**
 * One governed execution attempt (workflow ID = attempt ID):
 * PROPOSED → EVALUATING → DENIED | AWAITING_DECISION → (REJECTED | EXPIRED | CANCELLED) | EXECUTING → SUCCEEDED | FAILED.
 *
 * The result is the final execution record, for every terminal status. The workflow never retries itself: retrying
 * means a new attempt with a new idempotency key. Handlers: `decision` signal, `decide` update, `record` query.
 * The workflow type attempts are started as (WORKFLOW_TYPE).
 */
export async function executionAttemptV2(input: ExecutionAttemptInput): Promise<AttemptRecord> {
  return runAttempt(input, true);
}

/**
 * The same attempt as {@link executionAttemptV2}, under the workflow type attempts started before ECP 0.6 have
 * (LEGACY_WORKFLOW_TYPE): a new one records the ONE_STEP_EVALUATION_PATCH marker and writes its memo, and follows the
 * same rules; older histories replay through the markers they recorded.
 */
export async function executionAttempt(input: ExecutionAttemptInput): Promise<AttemptRecord> {
  return runAttempt(input, false);
}

/**
 * The lifecycle of either type. Every change to the attempt is an {@link AttemptState} method; this function is the
 * lifecycle and nothing else. `current`: the attempt is of WORKFLOW_TYPE, which needs no patch marker for what came
 * before it and keeps a start memo that already holds its resource.
 */
async function runAttempt(input: ExecutionAttemptInput, current: boolean): Promise<AttemptRecord> {
  // Legacy-type attempts record this one marker for every behaviour the older markers switch on.
  const oneStep = current || patched(ONE_STEP_EVALUATION_PATCH);
  const state = startState(input, oneStep);
  setHandler(recordQuery, () => state.record());
  const intake = state.intake.bounded ? new SignalIntake(state) : null;
  if (intake) intake.open();
  else setHandler(decisionSignal, (decision) => void state.receiveDecision(decision, 'signal'));
  if (state.intake.governance) setHandler(controlsChangedSignal, () => state.controlsChanged());
  setHandler(decideUpdate, (decision) => state.receiveDecision(decision, 'update'), {
    // A refusal decided here leaves no trace in history: only for decisions nobody with a registered key stands behind.
    validator: (decision) => state.validateDecision(decision),
  });

  const evaluator = evaluatorFor(state, oneStep, current);
  let enforcedAtMs = 0;
  try {
    state.evaluating({ publish: evaluator.publishEvaluating });
    const first = await evaluator.first();
    const { advice } = first;
    state.evaluated(advice);
    // The listing seal was fetched alongside evaluation (no added latency) and is in before the first status is
    // published, so every listed row of this attempt carries it (workflows/visibility.ts).
    await evaluator.sealed();
    assertListingSeal();

    // Every transition right after an evaluation is timed by it (AttemptState.timeAfter), read where it is needed.
    if (advice.verdict === 'deny') return finish(state, intake, 'DENIED', advice.reasons.join('; '), state.timeAfter(first));
    if (advice.verdict === 'require_approval') {
      // Refused updates leave no trace only while at most 10 events follow the last completed workflow task (see
      // QUIET_WAIT_PATCH). ECP 0.4's first task emitted more, so its wait started in a task of its own; one-step
      // evaluation's first task emits at most 6, and a short timer would cost a second: Temporal fires none sooner.
      if (intake && !oneStep && patched(QUIET_WAIT_PATCH)) await sleep(1);
      state.awaitDecision(state.timeAfter(first));
      // On `controlsChanged` (a freeze, say) the wait re-checks at once with fresh context and advice.
      const blocked = await waitForDecision(state, intake, async () => {
        const fresh = await evaluator.again();
        const atMs = state.timeAfter(fresh);
        return { blocked: state.controlsRecheck(fresh.context, fresh.advice, atMs), atMs };
      });
      if (blocked) return finish(state, intake, 'DENIED', `re-check before enforcement: ${blocked.reason}`, blocked.atMs);
      state.closeDecisions();
      if (state.rejected) return finish(state, intake, 'REJECTED', state.rejectionReason);
      if (!state.approved) return finish(state, intake, 'EXPIRED', 'no sufficient decision before the deadline; nothing ran');
    }

    // Re-check with fresh facts, directory and policy: stale authority never runs.
    const fresh = advice.verdict === 'require_approval' || evaluator.recheckAutomaticAllow;
    const recheck = fresh ? await evaluator.again() : first;
    enforcedAtMs = state.timeAfter(recheck);
    const blockedReason = state.enforce(recheck.context, recheck.advice, enforcedAtMs);
    if (blockedReason) return finish(state, intake, 'DENIED', `re-check before enforcement: ${blockedReason}`, enforcedAtMs);
  } catch (err) {
    await evaluator.sealed(); // a denied or cancelled attempt is listed too
    if (isCancellation(err)) return finish(state, intake, 'CANCELLED', 'cancelled before execution; nothing ran');
    // Context or policy could not be evaluated at all: fail closed, timed by the failed evaluation where it recorded
    // when it ended (Evaluator.failedAtMs).
    const atMs = state.timeAfter({ endedAtMs: evaluator.failedAtMs(err) });
    return finish(state, intake, 'DENIED', `evaluation failed: ${failureMessage(err)}`, atMs);
  }

  // Once executing, the outcome is recorded truthfully even if cancellation is requested.
  state.executing(enforcedAtMs);
  await CancellationScope.nonCancellable(async () => {
    try {
      const actionType = state.authorisedActionType;
      const result = await executorFor(actionType).executeAction({
        attemptId: state.attemptId,
        proposalHash: state.proposalHash,
        proposal: state.proposal,
        actionTypeVersion: actionType.version,
      });
      state.executed({ ok: true, result: result as JsonValue, finishedAt: new Date().toISOString() });
    } catch (err) {
      state.executed({ ok: false, error: failureDetails(err), finishedAt: new Date().toISOString() });
    }
  });
  const outcome = state.outcome;
  return finish(state, intake, outcome?.ok ? 'SUCCEEDED' : 'FAILED', outcome?.ok ? undefined : failureMessage(outcome));
}

/**
 * Waits until the requirements are met, a rejection is accepted or the deadline passes. With bounded intake, signals
 * are taken a slice per workflow task (a 1 ms timer starts the next task), so no flood can make one task outlast the
 * SDK's deadline. (History size is the server's to bound: see `SERVER_LIMITS`.) With governance it also wakes for each
 * escalation and reminder, and re-checks on `controlsChanged` (`recheck`): returns why the attempt was blocked, and
 * when, if so. Right after a re-check, "now" is the re-check's time (AttemptState.timeAfter), not the workflow clock.
 */
async function waitForDecision(
  state: AttemptState,
  intake: SignalIntake | null,
  recheck: () => Promise<{ blocked: string | null; atMs: number }>,
): Promise<{ reason: string; atMs: number } | null> {
  if (!intake) {
    await condition(() => state.decided, Math.max(0, (state.deadlineMs ?? 0) - Date.now()));
    return null;
  }
  const governance = state.intake.governance === true;
  let recheckedAtMs: number | null = null; // set by a re-check, until the wait resumes
  for (;;) {
    const nowMs = recheckedAtMs ?? Date.now();
    if (governance) {
      state.governanceDue(nowMs);
      if (state.controlsRecheckPending) {
        const { blocked, atMs } = await recheck();
        if (blocked) return { reason: blocked, atMs };
        recheckedAtMs = atMs;
        continue;
      }
    }
    const remaining = (state.deadlineMs ?? 0) - nowMs;
    if (state.decided || remaining <= 0) return null;
    const next = state.nextGovernanceMs;
    const wake = next === null ? remaining : Math.max(1, Math.min(remaining, next - nowMs));
    recheckedAtMs = null;
    const woke = await condition(() => state.decided || intake.paused || state.controlsRecheckPending, wake);
    if (!woke) {
      if (wake < remaining) continue; // an escalation or reminder is due, not the deadline
      return null;
    }
    if (intake.paused && !state.decided) await nextSlice(intake);
  }
}

/**
 * After an accepted override whose policy asks for ratification, the attempt stays open (its status already final)
 * until a second human countersigns or the window ends; a missed window is flagged in the timeline.
 */
async function ratificationWindow(state: AttemptState, intake: SignalIntake | null, closedAtMs: number): Promise<void> {
  let nowMs = closedAtMs; // the close's time until the first wait (see AttemptState.timeAfter)
  for (;;) {
    const window = state.ratificationPending;
    if (!window) return;
    const remaining = window.untilMs - nowMs;
    if (remaining <= 0) return state.ratificationMissed(nowMs);
    const woke = await condition(() => !state.ratificationPending || intake?.paused === true, remaining);
    if (!woke) return state.ratificationMissed();
    if (intake?.paused) await nextSlice(intake);
    nowMs = Date.now();
  }
}

/** Lets the next workflow task take the next slice of buffered signals. */
async function nextSlice(intake: SignalIntake): Promise<void> {
  await sleep(1);
  intake.open();
}

/**
 * Before the attempt closes, the signals still buffered are taken (refused: the wait is over), a slice per task, so
 * the record accounts for every signal that arrived.
 */
async function drainSignals(intake: SignalIntake | null): Promise<void> {
  while (intake?.paused) await nextSlice(intake);
}

function startState(input: ExecutionAttemptInput, oneStep: boolean): AttemptState {
  // Integrity rules (see INTEGRITY_PATCH): strict start input — the proposal is taken exactly as given (no
  // `__proto__`-style keys, no numbers beyond ±2^53, nothing validation would add or drop), so its hash is the RFC 8785
  // hash of the start input — and bounded decision intake (see `DecisionIntake`).
  const integrity = oneStep || patched(INTEGRITY_PATCH);
  try {
    // Validated and hashed from one canonical JSON text (the same hash `proposalHash` gives).
    const parsed = integrity ? parseStartProposalHashed(input?.proposal) : null;
    const proposal = parsed ? parsed.proposal : parseProposalShape(input?.proposal);
    const expectedId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
    if (workflowInfo().workflowId !== expectedId) {
      throw new EcpError(
        'invalid_input',
        `workflow ID must be the attempt ID derived from agent and idempotency key: ${expectedId}`,
        'workflowId',
      );
    }
    // Governance controls (see GOVERNANCE_PATCH): only with the integrity rules, i.e. on attempts started by this version.
    const governance = integrity && (oneStep || patched(GOVERNANCE_PATCH));
    return new AttemptState(expectedId, proposal, parsed ? parsed.hash : proposalHash(proposal), { bounded: integrity, governance });
  } catch (err) {
    // A bad start fails the workflow with the reason, instead of failing workflow tasks forever.
    throw ApplicationFailure.nonRetryable((err as Error).message, FailureType.InvalidProposal);
  }
}

function executorFor(actionType: PinnedActionType) {
  return proxyActivities<PlaneActivities>({
    startToCloseTimeout: actionType.timeout,
    // The executor heartbeats every 2 s while it runs, so a lost worker is noticed in seconds.
    heartbeatTimeout: EXECUTOR_HEARTBEAT_TIMEOUT,
    retry: { ...actionType.retry, nonRetryableErrorTypes: [...FINAL_EXECUTOR_FAILURES] },
  });
}

function finish(
  state: AttemptState,
  intake: SignalIntake | null,
  status: ClosingStatus,
  note?: string,
  atMs: number = Date.now(),
): Promise<AttemptRecord> | AttemptRecord {
  state.close(status, note, atMs);
  // Nothing to wait for (the common case): the record now, without the scope and promises the wait would create
  // (the SDK captures a stack trace for every promise a workflow creates). Same commands either way.
  if ((status === 'CANCELLED' || !state.ratificationPending) && !intake?.paused) return state.record();
  return closingWait(state, intake, status, atMs);
}

/** The ratification window (unless cancelled) and the signals still buffered, then the record. */
async function closingWait(
  state: AttemptState,
  intake: SignalIntake | null,
  status: ClosingStatus,
  closedAtMs: number,
): Promise<AttemptRecord> {
  await CancellationScope.nonCancellable(async () => {
    if (status !== 'CANCELLED') await ratificationWindow(state, intake, closedAtMs);
    await drainSignals(intake);
  });
  return state.record();
}

function failureDetails(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  return { type: (cause as Error)?.name ?? 'Error', message: (cause as Error)?.message ?? String(cause) };
}

function failureMessage(value: unknown): string {
  if (value && typeof value === 'object' && 'error' in value) return (value as { error: { message: string } }).error.message;
  return failureDetails(value).message;
}
