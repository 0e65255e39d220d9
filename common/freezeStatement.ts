// Kept free of zod and of @temporalio/workflow (like common/statement.ts) so the web console's browser bundle can sign
// freezes with exactly the bytes the controls workflow verifies. The schemas are in common/freeze.ts.
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson } from './canonical';

/** Domain prefix of the signed bytes, so a freeze signature can never pass as a decision's or the reverse. */
export const FREEZE_SIGNING_PREFIX = 'ecp.freeze.v1:';

/** What a freeze covers: one agent, one action type, or every attempt (validated by `freezeScopeSchema`). */
export type FreezeScopeShape = { kind: 'agent'; agent: string } | { kind: 'actionType'; actionType: string } | { kind: 'all' };

/** The statement a human signs to freeze or unfreeze a scope (validated by `freezeStatementSchema`). */
export interface FreezeStatementShape {
  kind: 'ecp.freeze';
  op: 'freeze' | 'unfreeze';
  scope: FreezeScopeShape;
  reason: string;
  human: string;
  at: string;
  nonce: string;
}

/** The exact bytes a human signs for a freeze or unfreeze. */
export function freezeSigningBytes(statement: FreezeStatementShape): Uint8Array {
  return utf8ToBytes(FREEZE_SIGNING_PREFIX + canonicalJson(statement));
}

/** Stable text of a scope, e.g. `agent support-bot`, `action type payments.refund`, `everything`. */
export function describeScope(scope: FreezeScopeShape): string {
  if (scope.kind === 'agent') return `agent ${scope.agent}`;
  if (scope.kind === 'actionType') return `action type ${scope.actionType}`;
  return 'everything';
}
