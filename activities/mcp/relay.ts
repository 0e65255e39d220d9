import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { canonicalSize, TASK_QUEUE, type JsonValue } from '../../common';
import {
  MCP_RELAY_CLAIM_MS,
  MCP_RELAY_MAX_BYTES,
  MCP_RELAY_WORKFLOW,
  mcpRelayId,
  type McpRelayInput,
  type McpRelayMethod,
  type McpRelayOutcome,
} from '../../common/mcpRelay';
import { refuseRelay, type McpRelayHandler } from './connection';

/** Relays tried per attempt before giving up (a server asking more than this in one call is refused). */
const MAX_RELAYS = 1000;

/**
 * The relay of one tool call: each elicitation or sampling request the downstream server sends while the call runs
 * becomes an `mcpRelay` workflow `<attemptId>-relay-<n>` (n = the next free number: IDs are never reused, so a retried
 * call's relays follow the earlier ones), and the call waits for its outcome. The gateway holding the call claims and
 * answers it; otherwise it ends refused after MCP_RELAY_CLAIM_MS, and the request is refused cleanly (refuseRelay).
 * `answerMs` bounds the wait for the agent's answer (the call's own timeout). Nothing is retried here: a relay that
 * cannot be started is refused, and the tool call goes on.
 */
export function relayThroughTemporal(client: Client, attemptId: string, answerMs: number): McpRelayHandler {
  let next = 1;
  return async (method: McpRelayMethod, params: Record<string, JsonValue>, signal: AbortSignal) => {
    if (canonicalSize(params) > MCP_RELAY_MAX_BYTES) return refuseRelay(method, `the request is larger than ${MCP_RELAY_MAX_BYTES} bytes`);
    const input: McpRelayInput = { attemptId, method, params, claimMs: MCP_RELAY_CLAIM_MS, answerMs };
    let outcome: McpRelayOutcome;
    try {
      const handle = await startRelay(client, input, () => next++);
      outcome = await client.withAbortSignal(signal, () => handle.result());
    } catch (err) {
      if (signal.aborted) throw err;
      return refuseRelay(method, `the plane could not relay it (${(err as Error).message})`);
    }
    if (outcome.kind === 'answer') return outcome.result;
    if (outcome.kind === 'error') throw new McpError(outcome.code, outcome.message);
    return refuseRelay(method, outcome.reason);
  };
}

async function startRelay(client: Client, input: McpRelayInput, nextNumber: () => number) {
  for (let tries = 0; tries < MAX_RELAYS; tries++) {
    try {
      return await client.workflow.start(MCP_RELAY_WORKFLOW, {
        taskQueue: TASK_QUEUE,
        workflowId: mcpRelayId(input.attemptId, nextNumber()),
        args: [input],
        // Unique per attempt for ever: the gateway walks the numbers in order and never meets one twice.
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowExecutionTimeout: `${input.claimMs + input.answerMs + 60_000}ms`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  throw new Error(`more than ${MAX_RELAYS} relays for one attempt`);
}
