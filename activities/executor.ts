import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, type JsonValue, type Proposal } from '../common';
import type { PlaneRuntime } from '../config/runtime';
import { httpCall } from './http';
import { callMcpTool } from './mcp/call';
import { relayThroughTemporal } from './mcp/relay';
import type { McpDownstream } from './mcp/downstream';

const EXECUTOR_HEARTBEAT_INTERVAL_MS = 2_000;

export interface ExecuteActionInput {
  attemptId: string;
  proposalHash: string;
  proposal: Proposal;
  /** The action type version the re-check authorised; a different live configuration does not run. */
  actionTypeVersion: string;
}

export function createExecutorActivities(runtime: PlaneRuntime, mcp: McpDownstream | null = null) {
  return {
    /**
     * Runs the action type's executor with exactly the authorised parameters. Retried per the action type's retry
     * policy (pinned in the attempt's context); the idempotency key is the attempt ID — stable across retries,
     * worker crashes and workflow resets — and HTTP executors send it as `Idempotency-Key`, so a target that honours
     * it applies the side effect once. Refuses (non-retryable `StaleAuthority`) when the live action type
     * configuration is no longer the version the re-check authorised. An MCP tool's action type first lists its
     * server's tools again, so a tool changed since the re-check is refused here too (activities/mcp/call.ts says how
     * a tool call fails).
     */
    async executeAction({ attemptId, proposalHash, proposal, actionTypeVersion }: ExecuteActionInput): Promise<JsonValue> {
      const context = Context.current();
      const server = runtime.config.mcpTools?.[proposal.actionType]?.server;
      if (server && mcp) await mcp.refresh(server, context.cancellationSignal);
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
      // Heartbeats let Temporal notice a lost worker within EXECUTOR_HEARTBEAT_TIMEOUT instead of the action type's
      // whole timeout; the retry then runs elsewhere with the same idempotency key.
      const beat = setInterval(() => context.heartbeat(), EXECUTOR_HEARTBEAT_INTERVAL_MS);
      try {
        if ('custom' in type.executor) {
          const executor = runtime.extensions.executors![type.executor.custom]!;
          return await executor({ attemptId, proposal, proposalHash, idempotencyKey: attemptId, signal: context.cancellationSignal });
        }
        if ('mcp' in type.executor) {
          if (!mcp) throw ApplicationFailure.nonRetryable('this worker has no MCP connections', FailureType.ConfigurationError);
          const { server: name, tool } = type.executor.mcp;
          return await callMcpTool(mcp, config, {
            server: name,
            tool,
            arguments: proposal.parameters,
            attemptId,
            signal: context.cancellationSignal,
            relay: (timeoutMs) => relayThroughTemporal(context.client, attemptId, timeoutMs),
          });
        }
        const spec = type.executor.http;
        const headers = { ...spec.headers, 'Idempotency-Key': attemptId, 'X-Ecp-Attempt': attemptId, 'X-Ecp-Proposal-Hash': proposalHash };
        const vars = { ...proposal.parameters, resource: proposal.resource, attemptId };
        const body = spec.body === 'parameters' ? proposal.parameters : undefined;
        const response = await httpCall({ ...spec, headers }, vars, body, context.cancellationSignal);
        return { status: response.status, body: response.body };
      } finally {
        clearInterval(beat);
      }
    },
  };
}
