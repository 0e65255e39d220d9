import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlaneActivities } from '../activities';
import {
  attemptIdFor,
  CONTEXT_PROVIDER_ATTEMPTS,
  decideUpdate,
  EXECUTOR_HEARTBEAT_TIMEOUT,
  decisionSignal,
  EcpError,
  FailureType,
  FINAL_EXECUTOR_FAILURES,
  proposalHash,
  recordQuery,
  type AttemptContext,
  type AttemptRecord,
  type JsonValue,
  type PinnedActionType,
  type ProposalInput,
  INTEGRITY_PATCH,
  GOVERNANCE_PATCH,
  QUIET_WAIT_PATCH,
  controlsChangedSignal,
} from '../common';
import { AttemptState, type ClosingStatus } from './attemptState';
import { evaluationFor, type Evaluation } from './legacy';
import { SignalIntake } from './signalIntake';
import { parseProposalShape, parseStartProposalHashed } from '../common/proposal';
import { assertListingSeal, startListingSeal } from './visibility';

export interface ExecutionAttemptInput {
  proposal: ProposalInput;
}

const contextOptions = { startToCloseTimeout: '30s', retry: { maximumAttempts: CONTEXT_PROVIDER_ATTEMPTS, initialInterval: '500ms' } };
const policyOptions = { startToCloseTimeout: '10s', retry: { maximumAttempts: 3, initialInterval: '200ms' } };

// Context and policy are read-only and short, so they run as local activities: their results are still pinned in
// history (as markers) and replayed, but evaluation and re-check cost no extra round trips through the server.
// The executor stays a regular activity: it has side effects, its own retry policy and must survive worker loss.
// An automatic allow was evaluated moments ago in this same workflow task, with nothing in between, so that
// evaluation is the fresh one enforcement needs. (Attempts started by ECP 0.1 replay with workflows/legacy.ts.)
const localEvaluation: Evaluation = {
  gatherContext: proxyLocalActivities<PlaneActivities>(contextOptions).gatherContext,
  evaluatePolicy: proxyLocalActivities<PlaneActivities>(policyOptions).evaluatePolicy,
  publishEvaluating: false,
  recheckAutomaticAllow: false,
};

/**
 * One governed execution attempt (workflow ID = attempt ID):
 * PROPOSED → EVALUATING → DENIED | AWAITING_DECISION → (REJECTED | EXPIRED | CANCELLED) | EXECUTING → SUCCEEDED | FAILED.
 *
 * The result is the final execution record, for every terminal status. The workflow never retries itself: retrying
 * means a new attempt with a new idempotency key. Handlers: `decision` signal, `decide` update, `record` query.
 * Every change to the attempt is an {@link AttemptState} method; this function is the lifecycle and nothing else.
 */
export async function executionAttempt(input: ExecutionAttemptInput): Promise<AttemptRecord> {
  const state = startState(input);
  setHandler(recordQuery, () => state.record());
  const intake = state.intake.bounded ? new SignalIntake(state) : null;
  if (intake) intake.open();
  else setHandler(decisionSignal, (decision) => void state.receiveDecision(decision, 'signal'));
  if (state.intake.governance) setHandler(controlsChangedSignal, () => state.controlsChanged());
  setHandler(decideUpdate, (decision) => state.receiveDecision(decision, 'update'), {
    // A refusal decided here leaves no trace in history: only for decisions nobody with a registered key stands behind.
    validator: (decision) => state.validateDecision(decision),
  });

  const evaluation = evaluationFor(localEvaluation);
  const { gatherContext, evaluatePolicy } = evaluation;
  const gather = () => gatherContext({ attemptId: state.attemptId, proposal: state.proposal });
  const advise = (context: AttemptContext) => evaluatePolicy({ proposal: state.proposal, context });
  // The listing seal is fetched alongside evaluation (no added latency) and awaited before the first status is
  // published, so every listed row of this attempt carries it (workflows/visibility.ts).
  const sealing = startListingSeal(state.proposal);
  try {
    state.evaluating({ publish: evaluation.publishEvaluating });
    const context = await gather();
    state.gathered(context); // pinned in the record even if the policy then cannot be evaluated
    const advice = await advise(context);
    state.evaluated(advice);
    await sealing;
    assertListingSeal();

    if (advice.verdict === 'deny') return finish(state, intake, 'DENIED', advice.reasons.join('; '));
    if (advice.verdict === 'require_approval') {
      // The wait, and the status that announces it, start in a workflow task of their own, so refused updates can be
      // discarded by the server from the moment anyone can see the attempt awaiting (see QUIET_WAIT_PATCH).
      if (intake && patched(QUIET_WAIT_PATCH)) await sleep(1);
      state.awaitDecision();
      // On `controlsChanged` (a freeze, say) the wait re-checks at once with fresh context and advice.
      const blocked = await waitForDecision(state, intake, async () => {
        const freshContext = await gather();
        return state.controlsRecheck(freshContext, await advise(freshContext));
      });
      if (blocked) return finish(state, intake, 'DENIED', `re-check before enforcement: ${blocked}`);
      state.closeDecisions();
      if (state.rejected) return finish(state, intake, 'REJECTED', state.rejectionReason);
      if (!state.approved) return finish(state, intake, 'EXPIRED', 'no sufficient decision before the deadline; nothing ran');
    }

    // Re-check with fresh facts, directory and policy: stale authority never runs.
    const fresh = advice.verdict === 'require_approval' || evaluation.recheckAutomaticAllow;
    const recheckContext = fresh ? await gather() : context;
    const recheckAdvice = fresh ? await advise(recheckContext) : advice;
    const blockedReason = state.enforce(recheckContext, recheckAdvice);
    if (blockedReason) return finish(state, intake, 'DENIED', `re-check before enforcement: ${blockedReason}`);
  } catch (err) {
    await sealing; // a denied or cancelled attempt is listed too
    if (isCancellation(err)) return finish(state, intake, 'CANCELLED', 'cancelled before execution; nothing ran');
    // Context or policy could not be evaluated at all: fail closed.
    return finish(state, intake, 'DENIED', `evaluation failed: ${failureMessage(err)}`);
  }

  // Once executing, the outcome is recorded truthfully even if cancellation is requested.
  state.executing();
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
 * escalation and reminder, and re-checks on `controlsChanged` (`recheck`): returns why the attempt was blocked, if so.
 */
async function waitForDecision(
  state: AttemptState,
  intake: SignalIntake | null,
  recheck: () => Promise<string | null>,
): Promise<string | null> {
  if (!intake) {
    await condition(() => state.decided, Math.max(0, (state.deadlineMs ?? 0) - Date.now()));
    return null;
  }
  const governance = state.intake.governance === true;
  for (;;) {
    if (governance) {
      state.governanceDue();
      if (state.controlsRecheckPending) {
        const blocked = await recheck();
        if (blocked) return blocked;
        continue;
      }
    }
    const remaining = (state.deadlineMs ?? 0) - Date.now();
    if (state.decided || remaining <= 0) return null;
    const next = state.nextGovernanceMs;
    const wake = next === null ? remaining : Math.max(1, Math.min(remaining, next - Date.now()));
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
async function ratificationWindow(state: AttemptState, intake: SignalIntake | null): Promise<void> {
  for (;;) {
    const window = state.ratificationPending;
    if (!window) return;
    const remaining = window.untilMs - Date.now();
    if (remaining <= 0) return state.ratificationMissed();
    const woke = await condition(() => !state.ratificationPending || intake?.paused === true, remaining);
    if (!woke) return state.ratificationMissed();
    if (intake?.paused) await nextSlice(intake);
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

function startState(input: ExecutionAttemptInput): AttemptState {
  // Integrity rules (see INTEGRITY_PATCH): strict start input — the proposal is taken exactly as given (no
  // `__proto__`-style keys, no numbers beyond ±2^53, nothing validation would add or drop), so its hash is the RFC 8785
  // hash of the start input — and bounded decision intake (see `DecisionIntake`).
  const integrity = patched(INTEGRITY_PATCH);
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
    const governance = integrity && patched(GOVERNANCE_PATCH);
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
): Promise<AttemptRecord> | AttemptRecord {
  state.close(status, note);
  // Nothing to wait for (the common case): the record now, without the scope and promises the wait would create
  // (the SDK captures a stack trace for every promise a workflow creates). Same commands either way.
  if ((status === 'CANCELLED' || !state.ratificationPending) && !intake?.paused) return state.record();
  return closingWait(state, intake, status);
}

/** The ratification window (unless cancelled) and the signals still buffered, then the record. */
async function closingWait(state: AttemptState, intake: SignalIntake | null, status: ClosingStatus): Promise<AttemptRecord> {
  await CancellationScope.nonCancellable(async () => {
    if (status !== 'CANCELLED') await ratificationWindow(state, intake);
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
