import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlaneActivities } from '../activities';
import {
  controlUpdate,
  describeScope,
  FailureType,
  FREEZE_STATEMENT_MAX_SKEW_MS,
  freezesQuery,
  sameScope,
  signedFreezeSchema,
  type ControlsLogEntry,
  type ControlsState,
  type Freeze,
  type FreezeScope,
  type SignedFreeze,
} from '../common';

export interface ControlsInput {
  /** Carried across continue-as-new: the freezes in force, the last log entries, the last sequence number. */
  state?: ControlsState;
  /** Nonces of statements taken within the skew window (nonce → statement time in ms), so none is taken twice. */
  nonces?: Record<string, number>;
}

/** Log entries the query returns (older ones stay in the history: the freeze log is the history itself). */
const LOG_KEPT = 200;
/** Continue as new well before Temporal's history limits; each freeze adds about ten events. */
const MAX_HISTORY_EVENTS = 2000;

// Verification reads the live directory and ecp.yaml's `controls.freezeGroup`: a local activity, pinned in history.
const { verifyFreeze } = proxyLocalActivities<PlaneActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});
// Signalling the waiting attempts of a scope is idempotent (an extra `controlsChanged` only re-checks): retried until done.
const { announceControlsChanged } = proxyActivities<PlaneActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/**
 * The kill switch (singleton, ID `ecp-controls`): takes signed freezes and unfreezes through the `control` update,
 * keeps the freezes in force (query `freezes`), and signals `controlsChanged` to the waiting attempts of each changed
 * scope. Its history is the freeze log: every request — accepted or refused — is an update in it. A refused request
 * changes nothing and fails the update with `FreezeRefused` and the reason. Runs forever; continues as new when its
 * history grows, carrying the freezes.
 */
export async function controls(input: ControlsInput = {}): Promise<void> {
  const state: ControlsState = input.state ?? { freezes: [], log: [], seq: 0 };
  const nonces: Record<string, number> = { ...input.nonces };
  const announcements: FreezeScope[] = [];

  setHandler(freezesQuery, () => state);
  setHandler(
    controlUpdate,
    async (signed: SignedFreeze): Promise<ControlsLogEntry> => {
      const { statement } = signed;
      const nowMs = Date.now();
      const skew = Math.abs(Date.parse(statement.at) - nowMs);
      if (skew > FREEZE_STATEMENT_MAX_SKEW_MS)
        refuse(
          `statement.at is ${Math.round(skew / 1000)} s from the plane's clock (at most ${FREEZE_STATEMENT_MAX_SKEW_MS / 1000} s): sign a fresh one`,
        );
      if (Object.hasOwn(nonces, statement.nonce)) refuse('statement.nonce was already used: this statement was taken before (replay)');
      const current = state.freezes.find((f) => sameScope(f.scope, statement.scope));
      if (statement.op === 'freeze' && current) refuse(`${describeScope(statement.scope)} is already frozen (entry ${current.seq})`);
      if (statement.op === 'unfreeze' && !current) refuse(`${describeScope(statement.scope)} is not frozen`);
      const verdict = await verifyFreeze(signed);
      if (!verdict.ok) refuse(verdict.reason);
      // Re-read after the await: another update may have changed the state meanwhile (handlers interleave).
      if (Object.hasOwn(nonces, statement.nonce)) refuse('statement.nonce was already used: this statement was taken before (replay)');
      const again = state.freezes.find((f) => sameScope(f.scope, statement.scope));
      if (statement.op === 'freeze' ? again : !again)
        refuse(`${describeScope(statement.scope)} changed meanwhile; look again (ecp freeze --list)`);
      nonces[statement.nonce] = Date.parse(statement.at);
      const entry: ControlsLogEntry = {
        op: statement.op,
        seq: ++state.seq,
        scope: statement.scope,
        reason: statement.reason,
        human: statement.human,
        at: new Date().toISOString(),
        key: signed.key,
      };
      if (statement.op === 'freeze') state.freezes.push(freezeOf(entry));
      else state.freezes = state.freezes.filter((f) => !sameScope(f.scope, statement.scope));
      state.log.push(entry);
      if (state.log.length > LOG_KEPT) state.log.splice(0, state.log.length - LOG_KEPT);
      announcements.push(statement.scope);
      return entry;
    },
    {
      // Shape only (a rejected update leaves no trace): anything well-formed is taken into history, accepted or refused.
      validator: (signed) => {
        const parsed = signedFreezeSchema.safeParse(signed);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          refuse(`field "${issue.path.join('.') || '(root)'}": ${issue.message}`);
        }
      },
    },
  );

  for (;;) {
    await condition(() => announcements.length > 0 || continueAsNewDue(), 24 * 60 * 60_000);
    while (announcements.length > 0) await announceControlsChanged({ scope: announcements.shift()! });
    if (continueAsNewDue()) {
      await condition(allHandlersFinished);
      if (announcements.length > 0) continue;
      const cutoff = Date.now() - 2 * FREEZE_STATEMENT_MAX_SKEW_MS;
      const kept = Object.fromEntries(Object.entries(nonces).filter(([, at]) => at >= cutoff));
      await continueAsNew<typeof controls>({ state, nonces: kept });
    }
  }
}

function continueAsNewDue(): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS;
}

function freezeOf({ seq, scope, reason, human, at, key }: ControlsLogEntry): Freeze {
  return { seq, scope, reason, human, at, key };
}

function refuse(reason: string): never {
  throw ApplicationFailure.nonRetryable(`freeze refused: ${reason}`, FailureType.FreezeRefused);
}
