import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { ApplicationFailure, type DataConverter } from '@temporalio/common';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import { randomUUID, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import {
  actionTypeKey,
  agentKey,
  attemptIdFor,
  awaitingGroupsKey,
  deadlineKey,
  decideUpdate,
  decisionStatement,
  decisionSignal,
  EcpError,
  FailureType,
  parseProposal,
  parseRecord,
  proposalHash,
  proposalProblems,
  proposalHashKey,
  recordQuery,
  sealKey,
  statusKey,
  STICKY_QUEUE_TIMEOUT_MS,
  TASK_QUEUE,
  WORKFLOW_TYPE,
  isAttemptWorkflowType,
  LEGACY_WORKFLOW_TYPE,
  type AttemptRecord,
  type AttemptStatus,
  type DecisionResult,
  type ProposalInput,
  type RefusalCode,
  type SignedDecision,
  type Verdict,
} from '../common';
import type { ConfigWithoutPolicies } from '../config/withoutPolicies';
import { CLIENT_CHANNEL_ARGS, temporalTargetFromEnv, type TemporalTarget } from '../config/temporalConnection';
import { dataConverterFor, decodePayloads } from '../codec/dataConverter';
import { signDecision } from './keys';
import { CloseGuard } from './closeGuard';
import { ListingSealVerifier } from './listingSeal';
import { dataDirFromEnv } from '../config/dataDir';
import { buildListQuery, type AttemptFilter } from './listQuery';
import type { AttemptSummary } from '../common/searchAttributes';
import type { McpCatalogue } from '../common/mcp';
import { fetchMcpCatalogue } from './mcpCatalogue';

/** What `propose` answers: the attempt, its proposal hash, and whether this call started it or found it. */
export interface ProposeResult {
  attemptId: string;
  proposalHash: string;
  /** False when the same proposal had already started this attempt (idempotent start). */
  created: boolean;
}

// Declared in common/ so the browser console can name it without importing the Node client library.
export type { AttemptSummary } from '../common/searchAttributes';

/** A decision to sign and send: who decides, how, why, with which private key, on which reviewed proposal hash. */
export interface DecideOptions {
  human: string;
  verdict: Verdict;
  reason?: string;
  privateKey: KeyObject;
  /** The proposal hash the human reviewed; the decision is refused locally if the attempt's differs. */
  expectedProposalHash?: string;
  /** Send as the fire-and-forget `decision` signal instead of the `decide` update. */
  viaSignal?: boolean;
  /**
   * An override names the policy ids it overrides (signed). Default: every overridable requirement of the attempt
   * not met yet (docs/governance.md).
   */
  overrides?: string[];
}

const tracer = trace.getTracer('ecp');

/**
 * The Temporal client interceptors that carry OpenTelemetry trace context from a client into attempts (for callers
 * that build their own `Client`; `EcpClient.connect({ tracing: true })` adds them itself).
 */
export function tracingClientInterceptors(): { workflow: OpenTelemetryWorkflowClientInterceptor[] } {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * The typed client for services, agents and humans. Proposing validates the proposal (and, given the plane's
 * configuration, the action type's parameters) before anything reaches Temporal, so a bad proposal starts nothing.
 */
export class EcpClient {
  /** Set when this client made its own connection (`connect`): closing it fences off late retries. */
  #closeGuard: CloseGuard | null = null;

  /**
   * @param listingSeal checks that each listed row was published by the plane (client/listingSeal.ts); default: the
   * plane public key in ECP_PLANE_PUBLIC_KEY or the data dir (ECP_DATA_DIR, else ./.ecp-data), read on first listing.
   */
  constructor(
    readonly client: Client,
    readonly config?: ConfigWithoutPolicies,
    readonly listingSeal: ListingSealVerifier = ListingSealVerifier.fromDataDir(dataDirFromEnv()),
  ) {}

  /**
   * Connects to Temporal. Payloads are encrypted/decrypted with `dataConverter`, by default the one built from the
   * configuration's `payloadEncryption` section or ECP_PAYLOAD_KEYS (codec/dataConverter.ts); a misconfigured key
   * fails here, before anything is sent.
   */
  static async connect(
    options: {
      target?: TemporalTarget;
      config?: ConfigWithoutPolicies;
      dataConverter?: DataConverter;
      listingSeal?: ListingSealVerifier;
      /**
       * Trace this client's calls with OpenTelemetry (the globally registered tracer provider): `propose` starts a
       * trace whose context travels in the workflow's headers to the workflow, its activities and the executor's HTTP
       * call (docs/observability.md). Without a registered provider the spans are no-ops.
       */
      tracing?: boolean;
    } = {},
  ): Promise<EcpClient> {
    const target = options.target ?? temporalTargetFromEnv();
    const dataConverter = options.dataConverter ?? dataConverterFor({ config: options.config });
    let connection: Connection;
    const guard = new CloseGuard();
    try {
      connection = await Connection.connect({
        address: target.address,
        tls: target.tls,
        apiKey: target.apiKey,
        channelArgs: CLIENT_CHANNEL_ARGS,
        connectTimeout: '5s',
        interceptors: guard.interceptors,
      });
    } catch (err) {
      throw new EcpError(
        'connection',
        `cannot reach Temporal at ${target.address} (is \`npm start\` running? set TEMPORAL_ADDRESS otherwise): ${(err as Error).message}`,
      );
    }
    const ecp = new EcpClient(
      new Client({
        connection,
        namespace: target.namespace,
        dataConverter,
        ...(options.tracing ? { interceptors: tracingClientInterceptors() } : {}),
      }),
      options.config,
      options.listingSeal,
    );
    ecp.#closeGuard = guard;
    return ecp;
  }

  /** Closes the connection; a call still in flight fails instead of retrying on the closed channel (client/closeGuard.ts). */
  async close(): Promise<void> {
    this.#closeGuard?.close();
    await this.client.connection.close();
  }

  /**
   * The MCP tools `agent` sees, answered by a plane worker (client/mcpCatalogue.ts): read-only, safe to repeat; a
   * `connection` EcpError when no worker answers in about 10 s.
   */
  async mcpCatalogue(agent: string): Promise<McpCatalogue> {
    return fetchMcpCatalogue(this.client, agent);
  }

  /**
   * Starts an attempt, idempotently: the attempt ID is derived from agent + idempotency key. The same proposal again
   * returns the existing attempt; the same key with a different proposal throws a `conflict` EcpError.
   */
  async propose(input: ProposalInput): Promise<ProposeResult> {
    // A span around the whole call (validation, start, idempotent re-proposal): a no-op unless tracing is registered.
    return tracer.startActiveSpan('ecp.propose', async (span) => {
      try {
        const result = await this.#propose(input);
        span.setAttributes({ 'ecp.attempt_id': result.attemptId, 'ecp.created': result.created });
        return result;
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  async #propose(input: ProposalInput): Promise<ProposeResult> {
    const proposal = parseProposal(input);
    if (this.config) {
      // The plane's own rule (common/admission.ts): what it would deny for these reasons is refused before starting.
      const [problem] = proposalProblems(this.config, proposal);
      if (problem) {
        const named = problem.message.includes(`field "${problem.field}"`)
          ? problem.message
          : `field "${problem.field}": ${problem.message}`;
        const configured = problem.field === 'actionType' ? ` (configured: ${Object.keys(this.config.actionTypes).join(', ')})` : '';
        throw new EcpError('invalid_input', `invalid proposal: ${named}${configured}`, problem.field);
      }
    }
    const attemptId = attemptIdFor(proposal.agent, proposal.idempotencyKey);
    const hash = proposalHash(proposal);
    try {
      await this.client.workflow.start(WORKFLOW_TYPE, {
        workflowId: attemptId,
        taskQueue: TASK_QUEUE,
        args: [{ proposal }],
        // FAIL, not USE_EXISTING: a new attempt then costs one call, and any existing one (running or closed) comes
        // back as WorkflowExecutionAlreadyStartedError, whose proposal is checked below.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        memo: { resource: proposal.resource },
        typedSearchAttributes: [
          { key: statusKey, value: 'PROPOSED' },
          { key: agentKey, value: proposal.agent },
          { key: actionTypeKey, value: proposal.actionType },
          { key: proposalHashKey, value: hash },
        ],
      });
      return { attemptId, proposalHash: hash, created: true };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      this.#assertSameProposal(attemptId, hash, await this.#existingHash(attemptId), proposal.idempotencyKey);
      return { attemptId, proposalHash: hash, created: false };
    }
  }

  /**
   * The existing attempt's proposal hash, computed here from the input it was started with (its first history event),
   * exactly as the workflow computes it: authoritative, and needs no running worker. Search attributes a starter
   * may have set are not trusted.
   */
  async #existingHash(attemptId: string): Promise<string> {
    const { history } = await this.client.workflowService.getWorkflowExecutionHistory({
      namespace: this.client.options.namespace,
      execution: { workflowId: attemptId },
      maximumPageSize: 1,
    });
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    try {
      // The raw history holds the payload as encoded (encrypted when a payload codec is configured): decode first.
      const { payloadCodecs, payloadConverter } = this.client.options.loadedDataConverter;
      const [decoded] = await decodePayloads(payloadCodecs, [payload!]);
      const input = payloadConverter.fromPayload<{ proposal: unknown }>(decoded!);
      return proposalHash(parseProposal(input.proposal));
    } catch {
      throw new EcpError('conflict', `attempt ${attemptId} already exists and was not started with a valid proposal`, 'idempotencyKey');
    }
  }

  #assertSameProposal(attemptId: string, hash: string, existing: string, key: string): void {
    if (existing !== hash) {
      throw new EcpError(
        'conflict',
        `idempotency key "${key}" is already used by attempt ${attemptId} for a different proposal (${existing}); ` +
          'a changed proposal needs a new idempotency key',
        'idempotencyKey',
      );
    }
  }

  /**
   * The record: a closed attempt's final record is its workflow result (no worker needed); a running one is queried
   * live. Either way it is parsed against the record schema: one that does not fit throws, naming the field.
   */
  async getRecord(attemptId: string): Promise<AttemptRecord> {
    const handle = this.client.workflow.getHandle(attemptId);
    let described: Awaited<ReturnType<typeof handle.describe>>;
    try {
      described = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new EcpError('not_found', `no attempt ${attemptId}`);
      throw err;
    }
    // Anyone with Temporal access can start a workflow under any ID: only the plane's type on the plane's queue is an
    // attempt (a worker of another queue could answer with a record of its own making).
    if (!isAttemptWorkflowType(described.type) || described.taskQueue !== TASK_QUEUE) {
      throw new EcpError(
        'not_found',
        `${attemptId} is not an attempt of this plane: it is a workflow of type "${described.type}" on task queue "${described.taskQueue}", ` +
          `not of type "${WORKFLOW_TYPE}" or "${LEGACY_WORKFLOW_TYPE}" on "${TASK_QUEUE}"`,
      );
    }
    if (described.status.name === 'COMPLETED') return parseRecord(await handle.result(), `record of ${attemptId}`);
    // A worker that has run the attempt keeps it in its cache, and Temporal sends the query to that worker's own (sticky)
    // queue first: if that worker is gone (killed, restarted), the query waits there for the sticky schedule-to-start
    // timeout before any other worker can take it. Only an attempt no worker has run yet (its history no longer than
    // the start and the first task's scheduling) can be answered by any worker at once.
    const waitMs = described.historyLength > 2 ? RECORD_QUERY_TIMEOUT_MS + STICKY_QUEUE_TIMEOUT_MS : RECORD_QUERY_TIMEOUT_MS;
    const deadline = Date.now() + waitMs;
    let answer: unknown;
    try {
      // A query waits for a worker; without one it would hang for as long as the server lets it.
      answer = await this.client.withDeadline(deadline, () => handle.query(recordQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new EcpError('not_found', `no attempt ${attemptId}`);
      // The deadline surfaces as DEADLINE_EXCEEDED, or as the error the server answers a little before it (the server
      // ends its side of the call early so the answer arrives in time).
      if (isDeadlineExceeded(err) || Date.now() >= deadline - 1_000) {
        throw new EcpError(
          'connection',
          `no ECP worker answered for attempt ${attemptId} within ${waitMs / 1000} s; ` +
            'it may not be an attempt of this plane, or no plane worker is running',
        );
      }
      throw err;
    }
    // Parsed, not trusted: whatever worker answers the query (or a payload codec) hands back arbitrary data.
    return parseRecord(answer, `record of ${attemptId}`);
  }

  /** Waits for the attempt to close and returns its final record (parsed: an invalid one throws naming the field). */
  async awaitOutcome(attemptId: string): Promise<AttemptRecord> {
    return parseRecord(await this.client.workflow.getHandle(attemptId).result(), `record of ${attemptId}`);
  }

  /**
   * Attempts matching the filter, as their workflows published them. Rows without a valid listing seal for their own
   * run (a workflow started around the plane, with search attributes of the starter's choosing) are left out; with no
   * plane public key to check against, this throws rather than list unchecked rows.
   */
  async listAttempts(filter: AttemptFilter = {}, limit = 200): Promise<AttemptSummary[]> {
    const out: AttemptSummary[] = [];
    for await (const info of this.client.workflow.list({ query: buildListQuery(filter) })) {
      if (!this.isSealed(info)) continue;
      out.push(summarize(info));
      if (out.length >= limit) break;
    }
    return out;
  }

  /** True when the row's values were published by an attempt workflow of this plane (its seal verifies). */
  isSealed(info: WorkflowExecutionInfo): boolean {
    return this.listingSeal.verify(this.client.options.namespace, info.workflowId, info.runId, info.typedSearchAttributes.get(sealKey));
  }

  /**
   * Attempts awaiting a decision, soonest deadline first. With `human`, only those this human may decide according
   * to the plane's directory: a required group they belong to, and not proposed by an agent they own.
   */
  async listPending(options: { human?: string; limit?: number } = {}): Promise<AttemptSummary[]> {
    const filter: AttemptFilter = { status: 'AWAITING_DECISION', running: true };
    if (options.human) {
      if (!this.config)
        throw new EcpError('invalid_input', 'listing pending attempts for a human needs the plane configuration (--config)');
      const human = this.config.directory.humans[options.human];
      if (!human) throw new EcpError('not_found', `"${options.human}" is not a human in the directory`, 'human');
      if (human.groups.length === 0) return [];
      filter.awaitingGroups = human.groups;
      filter.excludeAgents = Object.entries(this.config.directory.agents)
        .filter(([, a]) => a.owner === options.human)
        .map(([id]) => id);
    }
    const list = await this.listAttempts(filter, options.limit ?? 500);
    return list.sort((a, b) => (a.deadline ?? '9999').localeCompare(b.deadline ?? '9999'));
  }

  /** Signs and sends a decision. Through the update (default) the answer says whether it counted and why not. */
  async decide(attemptId: string, options: DecideOptions): Promise<DecisionResult> {
    const signed = await this.prepareDecision(attemptId, options);
    if (options.viaSignal) {
      await this.client.workflow.getHandle(attemptId).signal(decisionSignal, signed);
      return {
        accepted: true,
        code: null,
        message: 'decision sent as a signal; `ecp show` tells whether it counted',
        status: 'AWAITING_DECISION',
      };
    }
    return this.submitDecision(attemptId, signed);
  }

  /**
   * Sends a decision signed elsewhere (e.g. in the approver's browser) through the `decide` update; the workflow
   * verifies it and answers whether it counted. Nothing is re-signed here.
   */
  async submitDecision(attemptId: string, signed: SignedDecision): Promise<DecisionResult> {
    const handle = this.client.workflow.getHandle(attemptId);
    // One update ID for every try: should a try have been admitted after all, Temporal answers the retry with its result.
    const updateId = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        return await handle.executeUpdate(decideUpdate, { args: [signed], updateId });
      } catch (err) {
        if (attempt < UPDATE_TRIES && (abortedByWorkflowTaskFailure(err) || serverDeadlineExceeded(err))) {
          await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
          continue;
        }
        if (err instanceof WorkflowUpdateFailedError) {
          const refusal = validatorRefusal(err);
          if (refusal) return refusal;
          throw new EcpError('refused', `decision rejected: ${err.cause?.message ?? err.message}`);
        }
        if (err instanceof WorkflowNotFoundError) throw new EcpError('not_found', `no running attempt ${attemptId}`);
        throw err;
      }
    }
  }

  /** Builds and signs the decision statement for the attempt's current proposal hash, without sending it. */
  async prepareDecision(attemptId: string, options: DecideOptions): Promise<SignedDecision> {
    const record = await this.getRecord(attemptId);
    if (options.expectedProposalHash && options.expectedProposalHash !== record.proposalHash) {
      throw new EcpError(
        'refused',
        `attempt ${attemptId} has proposal ${record.proposalHash}, not the ${options.expectedProposalHash} you reviewed`,
      );
    }
    const overrides = options.verdict === 'override' ? (options.overrides ?? unmetOverridable(record)) : undefined;
    if (overrides?.length === 0) {
      throw new EcpError(
        'refused',
        `attempt ${attemptId} has no overridable requirement left to override (policy says where: @override_by)`,
      );
    }
    return signDecision(
      decisionStatement({
        attemptId,
        proposalHash: record.proposalHash,
        verdict: options.verdict,
        human: options.human,
        reason: options.reason,
        overrides,
      }),
      options.privateKey,
    );
  }
}

/**
 * A decision the `decide` validator refused (nothing recorded: nobody with a registered key stands behind it) as the
 * same answer a recorded refusal gets. Null for any other update failure.
 */
function validatorRefusal(err: WorkflowUpdateFailedError): DecisionResult | null {
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== FailureType.DecisionRefused) return null;
  const details = decisionRefusalDetails.safeParse(cause.details?.[0]);
  if (!details.success) return null;
  return { accepted: false, code: details.data.code as RefusalCode, message: cause.message, status: details.data.status as AttemptStatus };
}

/** The overridable requirements an override names by default: those not met yet. */
function unmetOverridable(record: AttemptRecord): string[] {
  return record.requirements.filter((r) => r.overrideBy && !r.met).map((r) => r.policyId);
}

const decisionRefusalDetails = z.object({ code: z.string(), status: z.string() });

function summarize(info: WorkflowExecutionInfo): AttemptSummary {
  const sa = info.typedSearchAttributes;
  const deadline = sa.get(deadlineKey);
  return {
    attemptId: info.workflowId,
    status: (sa.get(statusKey) as AttemptStatus | undefined) ?? 'UNKNOWN',
    agent: sa.get(agentKey) ?? null,
    actionType: sa.get(actionTypeKey) ?? null,
    // The workflow's own memo: written from its proposal before its first sealed publish (workflows/visibility.ts).
    resource: typeof info.memo?.resource === 'string' ? info.memo.resource : null,
    awaitingGroups: sa.get(awaitingGroupsKey) ?? [],
    deadline: deadline ? deadline.toISOString() : null,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime ? info.closeTime.toISOString() : null,
  };
}

/** How long `getRecord` waits for a worker to answer the record query. */
const RECORD_QUERY_TIMEOUT_MS = 5_000;

/** gRPC DEADLINE_EXCEEDED (code 4), however the SDK wrapped it. */
function isDeadlineExceeded(err: unknown): boolean {
  for (let e = err as { cause?: unknown; code?: number } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 4) return true;
  }
  return false;
}

/** Tries for an update Temporal aborted or could not answer in time (backoff 200 ms doubling to 2 s between tries). */
const UPDATE_TRIES = 8;

/**
 * Temporal refuses or aborts an update (FAILED_PRECONDITION) while the workflow task that would carry it fails for a
 * reason of its own: `UnhandledCommand` (a signal, e.g. another decision, arrived while that task was completing) or a
 * task that timed out on an overloaded worker and is being retried ("Workflow Task in failed state"). The update was
 * not admitted, so sending it again is safe; without this, a decision racing another would surface as an error.
 */
function abortedByWorkflowTaskFailure(err: unknown): boolean {
  return someCause(err, (e) => e.code === 9 && /workflow task (failure|in failed state)/i.test(e.details ?? e.message ?? ''));
}

/**
 * The update call ended DEADLINE_EXCEEDED ("context deadline exceeded"): the server could not answer in time, e.g.
 * while a history process stops or restarts and its shards move. The update may or may not have been admitted; the
 * retry carries the same update ID, so Temporal answers it with the first try's result instead of running it twice.
 */
function serverDeadlineExceeded(err: unknown): boolean {
  return err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && someCause(err, (e) => e.code === 4);
}

function someCause(err: unknown, test: (e: { code?: number; details?: string; message?: string }) => boolean): boolean {
  for (
    let e = err as { cause?: unknown; code?: number; details?: string; message?: string } | undefined, depth = 0;
    e && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    if (test(e)) return true;
  }
  return false;
}
