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

/** How long after its last use a {@link FreezeCache} keeps its freeze list fresh in the background. */
export const FREEZE_KEEP_FRESH_MS = 30_000;

/** How long before a kept freeze list expires the background read starts (at most half its time to live). */
const REFRESH_MARGIN_MS = 250;

/**
 * The freeze list a worker serves from memory for `ttlMs` (ecp.yaml `controls.freezeCache`), so attempts cost one
 * read per interval, not one each. A read that fails is not cached: once the list is older than `ttlMs`, every caller
 * gets the error (and fails closed).
 *
 * While it is in use (until {@link FREEZE_KEEP_FRESH_MS} after the last `get`), the list is read again in the
 * background a little before it expires (every `ttlMs` − 250 ms, at least every `ttlMs / 2`), so an attempt finds a
 * list younger than `ttlMs` instead of waiting for the read (a describe and a query of the controls workflow: ≈ 20 ms
 * at p50 for an agent proposing once a second). The bound is the same: no caller is ever served a list read more than
 * `ttlMs` ago; a read slower than the margin only means the next caller waits for it. A background read that fails
 * leaves the list as it was and stops the background reads; the next `get` starts them again. `readList` is for
 * tests.
 */
export class FreezeCache {
  #value: { state: ControlsState; at: number } | null = null;
  #pending: Promise<ControlsState> | null = null;
  #refresher: ReturnType<typeof setInterval> | null = null;
  #refreshEveryMs = 0;
  #lastUse = 0;

  constructor(private readonly readList: (client: Client) => Promise<ControlsState> = readControls) {}

  async get(client: Client, ttlMs: number): Promise<ControlsState> {
    this.#lastUse = Date.now();
    if (ttlMs > 0) this.#keepFresh(client, ttlMs);
    if (this.#value && Date.now() - this.#value.at < ttlMs) return this.#value.state;
    return this.#read(client);
  }

  /** Stops the background reads (they also stop by themselves once the cache is unused or a read fails). */
  stop(): void {
    if (this.#refresher) clearInterval(this.#refresher);
    this.#refresher = null;
  }

  #read(client: Client): Promise<ControlsState> {
    this.#pending ??= this.readList(client)
      .then((state) => {
        this.#value = { state, at: Date.now() };
        return state;
      })
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }

  #keepFresh(client: Client, ttlMs: number): void {
    const every = ttlMs - Math.min(REFRESH_MARGIN_MS, ttlMs / 2);
    // A changed freezeCache (configuration reload) takes a new interval.
    if (this.#refresher && this.#refreshEveryMs === every) return;
    this.stop();
    this.#refreshEveryMs = every;
    this.#refresher = setInterval(() => {
      if (Date.now() - this.#lastUse > FREEZE_KEEP_FRESH_MS) return this.stop();
      this.#read(client).catch(() => this.stop());
    }, this.#refreshEveryMs);
    // Never what keeps a worker's process alive.
    this.#refresher.unref();
  }
}
