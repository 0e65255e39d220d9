import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  McpError,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { EcpClient } from '../client/ecpClient';
import { TASK_QUEUE } from '../common/constants';
import {
  MCP_RELAY_WORKFLOW,
  mcpRelayAnswerUpdate,
  mcpRelayClaimUpdate,
  mcpRelayId,
  type McpRelayMethod,
  type McpRelayOutcome,
} from '../common/mcpRelay';
import type { JsonValue } from '../common/record';

/** How often the gateway looks for the next relay of a held call. */
export const RELAY_POLL_MS = 300;

/** Sends one request to the agent's client on the held call's stream (the `tools/call` handler's `sendRequest`). */
export type AgentRequest = (
  request: { method: McpRelayMethod; params: Record<string, JsonValue> },
  schema: typeof ElicitResultSchema | typeof CreateMessageResultSchema,
) => Promise<unknown>;

/**
 * While a call is held, answers the relays its downstream server asks for (docs/mcp.md, "Elicitation and sampling"):
 * looks for `<attemptId>-relay-<n>` for the next n every RELAY_POLL_MS, claims it (an update: only one claimant), asks
 * the agent's client when it declared the capability at initialize, and answers with the client's result, its error,
 * or a refusal. Ends when `signal` aborts (the hold ended); a relay claimed then is answered refused. Never throws: a
 * relay the gateway cannot answer ends refused by its own timer, and the tool call goes on.
 */
export async function relayForHeldCall(
  ecp: EcpClient,
  attemptId: string,
  capabilities: () => ClientCapabilities | undefined,
  ask: AgentRequest,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<void> {
  let n = 1;
  // First look after one interval: an auto-allowed call usually ends before that, and then costs no lookup at all.
  await sleep(RELAY_POLL_MS, signal);
  while (!signal.aborted) {
    const handle = ecp.client.workflow.getHandle(mcpRelayId(attemptId, n));
    let state: 'wait' | 'skip' | 'open';
    try {
      const d = await handle.describe();
      // Only the plane's own relays: anything else under that ID is skipped, never answered.
      state = d.type === MCP_RELAY_WORKFLOW && d.taskQueue === TASK_QUEUE && d.status.name === 'RUNNING' ? 'open' : 'skip';
    } catch {
      state = 'wait'; // not started yet (or the plane is unreachable for now): look again
    }
    if (state === 'wait') {
      await sleep(RELAY_POLL_MS, signal);
      continue;
    }
    n += 1;
    if (state === 'skip') continue;
    let request: { method: McpRelayMethod; params: Record<string, JsonValue> };
    try {
      request = await handle.executeUpdate(mcpRelayClaimUpdate);
    } catch {
      continue; // claimed by another gateway process, or ended: not ours to answer
    }
    const outcome = await answer(request, capabilities(), ask, signal);
    log(`mcp: relay ${request.method} of attempt ${attemptId} → ${outcome.kind}`);
    await handle.executeUpdate(mcpRelayAnswerUpdate, { args: [outcome] }).catch(async (err: Error) => {
      // An answer the relay refuses (too large, malformed) must not leave the server waiting for its timer.
      if (outcome.kind === 'refused') return;
      const refused: McpRelayOutcome = { kind: 'refused', reason: `the agent's answer was not accepted: ${err.message}`.slice(0, 4000) };
      await handle.executeUpdate(mcpRelayAnswerUpdate, { args: [refused] }).catch(() => {});
    });
  }
}

async function answer(
  request: { method: McpRelayMethod; params: Record<string, JsonValue> },
  capabilities: ClientCapabilities | undefined,
  ask: AgentRequest,
  signal: AbortSignal,
): Promise<McpRelayOutcome> {
  const elicit = request.method === 'elicitation/create';
  const supported = elicit ? capabilities?.elicitation !== undefined : capabilities?.sampling !== undefined;
  if (!supported) {
    return { kind: 'refused', reason: `${elicit ? 'elicitation' : 'sampling'} is not supported by the agent's client` };
  }
  if (signal.aborted) return { kind: 'refused', reason: 'the call is no longer held' };
  try {
    const result = await ask(request, elicit ? ElicitResultSchema : CreateMessageResultSchema);
    return { kind: 'answer', result: JSON.parse(JSON.stringify(result)) as Record<string, JsonValue> };
  } catch (err) {
    if (signal.aborted) return { kind: 'refused', reason: 'the call is no longer held' };
    const code = err instanceof McpError ? err.code : ErrorCode.InternalError;
    return { kind: 'error', code, message: `the agent's client answered with an error: ${(err as Error).message}`.slice(0, 4000) };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
