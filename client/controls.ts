import { randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  CONTROLS_WORKFLOW_ID,
  CONTROLS_WORKFLOW_TYPE,
  controlUpdate,
  EcpError,
  FailureType,
  freezeSigningBytes,
  freezesQuery,
  freezeStatementSchema,
  keyFingerprint,
  TASK_QUEUE,
  type ControlsLogEntry,
  type ControlsState,
  type FreezeScope,
  type FreezeStatement,
  type SignedFreeze,
} from '../common';
import { publicKeyHex } from './keys';

/** Starts the singleton controls workflow unless it runs already. Idempotent; true when this call started it. */
export async function ensureControls(client: Client): Promise<boolean> {
  const requestId = randomUUID();
  try {
    const handle = await client.workflow.start(CONTROLS_WORKFLOW_TYPE, {
      workflowId: CONTROLS_WORKFLOW_ID,
      taskQueue: TASK_QUEUE,
      args: [{}],
      workflowIdConflictPolicy: 'USE_EXISTING',
      memo: { requestId },
    });
    return (await handle.describe()).memo?.requestId === requestId;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
    throw err;
  }
}

/** A freeze or unfreeze statement, signed the way the controls workflow verifies it. */
export function signFreeze(
  input: { op: 'freeze' | 'unfreeze'; scope: FreezeScope; reason: string; human: string; at?: Date },
  privateKey: KeyObject,
): SignedFreeze {
  const statement: FreezeStatement = freezeStatementSchema.parse({
    kind: 'ecp.freeze',
    op: input.op,
    scope: input.scope,
    reason: input.reason,
    human: input.human,
    at: (input.at ?? new Date()).toISOString(),
    nonce: randomBytes(16).toString('hex'),
  });
  const signature = sign(null, freezeSigningBytes(statement), privateKey).toString('hex');
  return { statement, signature, key: keyFingerprint(publicKeyHex(privateKey)) };
}

/**
 * Sends a signed freeze or unfreeze to the controls workflow; answers the accepted log entry. A refusal (not signed
 * by the freeze group, a replayed statement, already frozen …) throws EcpError `refused` with the reason; it is in
 * the controls workflow's history all the same. Not retried: a statement is taken at most once (its nonce).
 */
export async function sendControl(client: Client, signed: SignedFreeze): Promise<ControlsLogEntry> {
  try {
    return await client.workflow.getHandle(CONTROLS_WORKFLOW_ID).executeUpdate(controlUpdate, { args: [signed] });
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : err;
    if (cause instanceof ApplicationFailure && cause.type === FailureType.FreezeRefused) throw new EcpError('refused', cause.message);
    if ((err as Error).name === 'WorkflowNotFoundError')
      throw new EcpError(
        'not_found',
        `no controls workflow (${CONTROLS_WORKFLOW_ID}): is the kill switch configured (ecp.yaml controls:) and the plane running?`,
      );
    throw err;
  }
}

/**
 * The freezes in force and the recent freeze log, read from the controls workflow — only from the plane's own
 * (type `controls` on the plane's task queue): a workflow started under its ID around the plane is not believed.
 */
export async function readControls(client: Client): Promise<ControlsState> {
  const handle = client.workflow.getHandle(CONTROLS_WORKFLOW_ID);
  const described = await handle.describe();
  if (described.type !== CONTROLS_WORKFLOW_TYPE || described.taskQueue !== TASK_QUEUE) {
    throw new EcpError(
      'refused',
      `${CONTROLS_WORKFLOW_ID} is not the plane's controls workflow (type "${described.type}" on "${described.taskQueue}")`,
    );
  }
  if (described.status.name !== 'RUNNING')
    throw new EcpError('connection', `the controls workflow is ${described.status.name}, not running`);
  return client.withDeadline(Date.now() + 5_000, () => handle.query(freezesQuery));
}

/**
 * The freeze list a worker serves from memory for `ttlMs` (ecp.yaml `controls.freezeCache`), so attempts cost one
 * read per interval, not one each. A read that fails is not cached: every caller gets the error (and fails closed).
 */
export class FreezeCache {
  #value: { state: ControlsState; at: number } | null = null;
  #pending: Promise<ControlsState> | null = null;

  async get(client: Client, ttlMs: number): Promise<ControlsState> {
    if (this.#value && Date.now() - this.#value.at < ttlMs) return this.#value.state;
    this.#pending ??= readControls(client)
      .then((state) => {
        this.#value = { state, at: Date.now() };
        return state;
      })
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }
}
