import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, frozenProblem, type Freeze, type JsonValue, type Proposal } from '../common';
import type { PlaneRuntime } from '../config/runtime';
import type { FreezeState } from './controls';
import { httpCall } from './http';
import { callMcpTool } from './mcp/call';
import { relayThroughTemporal } from './mcp/relay';
import type { McpDownstream } from './mcp/downstream';

const EXECUTOR_HEARTBEAT_INTERVAL_MS = 2_000;
/** How often a cancellable executor looks at the freeze list (served from the worker's cache). */
const FREEZE_CHECK_INTERVAL_MS = 500;

export interface ExecuteActionInput {
  attemptId: string;
  proposalHash: string;
  proposal: Proposal;
  /** The action type version the re-check authorised; a different live configuration does not run. */
  actionTypeVersion: string;
}

export function createExecutorActivities(runtime: PlaneRuntime, freezes: FreezeState, mcp: McpDownstream | null = null) {
  return {
    /**
     * Runs the action type's executor with exactly the authorised parameters. Retried per the action type's retry
     * policy (pinned in the attempt's context); the idempotency key is the attempt ID — stable across retries,
     * worker crashes and workflow resets — and HTTP executors send it as `Idempotency-Key`, so a target that honours
     * it applies the side effect once. Refuses (non-retryable `StaleAuthority`) when the live action type
     * configuration is no longer the version the re-check authorised. An MCP tool's action type first checks a
     * listing of its server's tools asked after the evaluation that allowed it (`McpDownstream.refreshForExecution`),
     * so a tool changed since is refused here too (activities/mcp/call.ts says how a tool call fails).
     * The kill switch: a freeze covering the attempt
     * when the executor starts stops it before it runs (non-retryable `Frozen`); one made while it runs aborts the
     * request — only for action types marked `cancellable: true` — and fails it the same way. Otherwise it finishes.
     */
    async executeAction({ attemptId, proposalHash, proposal, actionTypeVersion }: ExecuteActionInput): Promise<JsonValue> {
      const context = Context.current();
      const server = runtime.config.mcpTools?.[proposal.actionType]?.server;
      if (server && mcp) await mcp.refreshForExecution(server, attemptId, context.cancellationSignal);
      const config = runtime.config;
      const type = config.actionTypes[proposal.actionType];
      if (!type)
        throw ApplicationFailure.nonRetryable(
          `action type "${proposal.actionType}" is no longer configured`,
          FailureType.ConfigurationError,
        );
      if (config.actionTypeVersions[proposal.actionType] !== actionTypeVersion) {
        throw ApplicationFailure.nonRetryable(
          `action type "${proposal.actionType}" was reconfigured after the re-check; not running on stale authority`,
          FailureType.StaleAuthority,
        );
      }
      const frozen = await freezes.covering(context.client, proposal.agent, proposal.actionType).catch(() => null);
      if (frozen) throw ApplicationFailure.nonRetryable(`not started: ${frozenProblem(frozen)}`, FailureType.Frozen);
      // The kill switch stops a running request only where the action type says stopping it midway is safe.
      const stop = new AbortController();
      let stoppedBy: Freeze | null = null;
      const watch = type.cancellable
        ? setInterval(() => {
            freezes
              .covering(context.client, proposal.agent, proposal.actionType)
              .then((freeze) => {
                if (freeze && !stoppedBy) {
                  stoppedBy = freeze;
                  stop.abort(new Error(frozenProblem(freeze)));
                }
              })
              // A freeze list that cannot be read is no freeze: the executor was authorised and keeps running.
              .catch(() => {});
          }, FREEZE_CHECK_INTERVAL_MS)
        : undefined;
      const signal = AbortSignal.any([context.cancellationSignal, stop.signal]);
      // Heartbeats let Temporal notice a lost worker within EXECUTOR_HEARTBEAT_TIMEOUT instead of the action type's
      // whole timeout; the retry then runs elsewhere with the same idempotency key.
      const beat = setInterval(() => context.heartbeat(), EXECUTOR_HEARTBEAT_INTERVAL_MS);
      try {
        if ('custom' in type.executor) {
          const executor = runtime.extensions.executors![type.executor.custom]!;
          return await executor({ attemptId, proposal, proposalHash, idempotencyKey: attemptId, signal });
        }
        if ('mcp' in type.executor) {
          if (!mcp) throw ApplicationFailure.nonRetryable('this worker has no MCP connections', FailureType.ConfigurationError);
          const { server: name, tool } = type.executor.mcp;
          return await callMcpTool(mcp, config, {
            server: name,
            tool,
            arguments: proposal.parameters,
            attemptId,
            signal,
            relay: (timeoutMs) => relayThroughTemporal(context.client, attemptId, timeoutMs),
          });
        }
        const spec = type.executor.http;
        const headers = { ...spec.headers, 'Idempotency-Key': attemptId, 'X-Ecp-Attempt': attemptId, 'X-Ecp-Proposal-Hash': proposalHash };
        const vars = { ...proposal.parameters, resource: proposal.resource, attemptId };
        const body = spec.body === 'parameters' ? proposal.parameters : undefined;
        const response = await httpCall({ ...spec, headers }, vars, body, signal);
        return { status: response.status, body: response.body };
      } catch (err) {
        if (stoppedBy)
          throw ApplicationFailure.nonRetryable(`cancelled by the kill switch: ${frozenProblem(stoppedBy)}`, FailureType.Frozen);
        throw err;
      } finally {
        clearInterval(beat);
        clearInterval(watch);
      }
    },
  };
}
