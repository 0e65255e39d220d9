import { WorkflowNotFoundError } from '@temporalio/client';
import type { EcpClient } from '../client/ecpClient';
import { EcpError } from '../common/errors';
import type { McpToolView } from '../common/mcp';
import { attemptIdFor } from '../common/proposal';
import type { JsonValue } from '../common/record';
import { isAttemptWorkflowType, TASK_QUEUE } from '../common/constants';
import { callIdempotencyKey, timeBucket } from './idempotency';

/** One tool call as the gateway proposes it. */
export interface ToolCall {
  agent: string;
  tool: McpToolView;
  arguments: Record<string, JsonValue>;
  justification?: string;
  clientKey?: string;
}

/**
 * Starts the call's attempt, or finds the one an identical call already started (docs/mcp.md, "Retries and
 * idempotency"). With no client key, an attempt of the previous time bucket that started less than one window ago is
 * the same call, so a retry across a bucket edge never runs twice. Retrying `startCall` is safe: starts are
 * idempotent by attempt ID. A retry whose proposal differs only in justification gets the first attempt.
 */
export async function startCall(ecp: EcpClient, call: ToolCall, windowMs: number, now = Date.now()): Promise<string> {
  const identity = { tool: call.tool.exposedName, arguments: call.arguments, clientKey: call.clientKey };
  const bucket = timeBucket(now, windowMs);
  if (call.clientKey === undefined) {
    const previous = attemptIdFor(call.agent, callIdempotencyKey(identity, bucket - 1));
    if (await startedWithin(ecp, previous, now - windowMs)) return previous;
  }
  const idempotencyKey = callIdempotencyKey(identity, bucket);
  const proposal = {
    agent: call.agent,
    actionType: call.tool.actionType,
    resource: `mcp:${call.tool.server}/${call.tool.name}`,
    parameters: call.arguments,
    justification: call.justification ?? `MCP tool call ${call.tool.exposedName} by agent ${call.agent} through the ECP gateway`,
    claims: {},
    idempotencyKey,
  };
  try {
    return (await ecp.propose(proposal)).attemptId;
  } catch (err) {
    // Same agent, tool and arguments, only a different justification: the same call, so the first attempt answers.
    if (err instanceof EcpError && err.code === 'conflict' && err.field === 'idempotencyKey') {
      return attemptIdFor(call.agent, idempotencyKey);
    }
    throw err;
  }
}

/** True when `attemptId` is an attempt of this plane that started at or after `sinceMs`. */
async function startedWithin(ecp: EcpClient, attemptId: string, sinceMs: number): Promise<boolean> {
  try {
    const d = await ecp.client.workflow.getHandle(attemptId).describe();
    return isAttemptWorkflowType(d.type) && d.taskQueue === TASK_QUEUE && d.startTime.getTime() >= sinceMs;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
