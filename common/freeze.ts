import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { describeScope, FREEZE_SIGNING_PREFIX, freezeSigningBytes } from './freezeStatement';
import { lazySchema } from './lazySchema';
import { actionTypeNameSchema, agentIdSchema, humanIdSchema } from './proposal';

/*
 * The kill switch's contract (docs/kill-switch-and-notifications.md): a freeze is a signed statement by a human of the
 * configured freeze group, kept by the singleton controls workflow whose history is the freeze log. Sandbox-safe.
 */

/** The singleton controls workflow: one per namespace, started idempotently by every plane that configures `controls`. */
export const CONTROLS_WORKFLOW_ID = 'ecp-controls';
/** Workflow type of the controls workflow (workflows/controls.ts). */
export const CONTROLS_WORKFLOW_TYPE = 'controls';

// The zod-free part (signed bytes, scope text) lives in freezeStatement.ts, for the console's browser bundle.
export { describeScope, FREEZE_SIGNING_PREFIX, freezeSigningBytes };

/** How far a freeze statement's `at` may be from the controls workflow's clock: bounds replay of a captured statement. */
export const FREEZE_STATEMENT_MAX_SKEW_MS = 5 * 60_000;

/** What a freeze covers: one agent, one action type, or every attempt. */
export const freezeScopeSchema = lazySchema('freeze.scope', () =>
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('agent'), agent: agentIdSchema }),
    z.strictObject({ kind: z.literal('actionType'), actionType: actionTypeNameSchema }),
    z.strictObject({ kind: z.literal('all') }),
  ]),
);
/** A freeze's scope. */
export type FreezeScope = z.output<typeof freezeScopeSchema>;

/** The statement a human signs to freeze or unfreeze a scope. `nonce` makes each statement unique (no replay). */
export const freezeStatementSchema = lazySchema('freeze.statement', () =>
  z.strictObject({
    kind: z.literal('ecp.freeze'),
    op: z.enum(['freeze', 'unfreeze']),
    scope: freezeScopeSchema,
    reason: z.string().trim().min(1, 'a reason is required').max(1000),
    human: humanIdSchema,
    at: z.iso.datetime({ offset: true }),
    nonce: z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lower-case hex characters'),
  }),
);
/** A freeze or unfreeze statement, as signed. */
export type FreezeStatement = z.output<typeof freezeStatementSchema>;

/** A signed freeze statement: Ed25519 signature (hex) over `freezeSigningBytes(statement)`, and the signing key's fingerprint. */
export const signedFreezeSchema = lazySchema('freeze.signed', () =>
  z.strictObject({
    statement: freezeStatementSchema,
    signature: z.string().regex(/^[0-9a-f]{128}$/, 'must be an Ed25519 signature: 128 lower-case hex characters'),
    key: z.string().regex(/^[0-9a-f]{16}$/, 'must be a key fingerprint: 16 lower-case hex characters'),
  }),
);
/** A signed freeze or unfreeze statement. */
export type SignedFreeze = z.output<typeof signedFreezeSchema>;

/** A freeze in force: the signed statement that made it, who, and when the controls workflow took it. */
export interface Freeze {
  /** Position in the freeze log (1, 2, …; carried across continue-as-new). */
  seq: number;
  scope: FreezeScope;
  reason: string;
  human: string;
  /** When the controls workflow accepted it (workflow time). */
  at: string;
  /** Fingerprint of the key that signed it. */
  key: string;
}

/** One entry of the freeze log: a freeze or an unfreeze, as accepted. */
export interface ControlsLogEntry extends Freeze {
  op: 'freeze' | 'unfreeze';
}

/** What the `freezes` query answers: the freezes in force and the latest log entries (newest last). */
export interface ControlsState {
  freezes: Freeze[];
  log: ControlsLogEntry[];
  /** Sequence number of the last accepted entry (0: none yet). */
  seq: number;
}

/** A freeze or unfreeze; answers the accepted log entry. Refused (with the reason) when not signed by the freeze group. */
export const controlUpdate = defineUpdate<ControlsLogEntry, [SignedFreeze]>('control');
/** The freezes in force and the recent freeze log. */
export const freezesQuery = defineQuery<ControlsState>('freezes');

/** True when two scopes are the same scope. */
export function sameScope(a: FreezeScope, b: FreezeScope): boolean {
  return describeScope(a) === describeScope(b);
}

/** The freeze (first in the log) that covers an attempt of this agent and action type, or null. */
export function freezeCovering(freezes: readonly Freeze[], agent: string, actionType: string): Freeze | null {
  return (
    freezes.find(
      ({ scope }) =>
        scope.kind === 'all' ||
        (scope.kind === 'agent' && scope.agent === agent) ||
        (scope.kind === 'actionType' && scope.actionType === actionType),
    ) ?? null
  );
}

/** The problem an attempt of a frozen scope pins in its context (→ DENIED, freeze cited). */
export function frozenProblem(freeze: Freeze): string {
  return `frozen: ${describeScope(freeze.scope)} by ${freeze.human} at ${freeze.at} (${JSON.stringify(freeze.reason)})`;
}
