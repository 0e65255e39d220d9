import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  canonicalSize,
  CONTEXT_PROVIDER_ATTEMPTS,
  frozenProblem,
  LIMITS,
  type AttemptContext,
  type JsonValue,
  type PinnedDirectory,
  type Proposal,
  proposalProblems,
} from '../common';
import type { PlaneConfig } from '../config/load';
import type { PlaneRuntime } from '../config/runtime';
import type { FreezeState } from './controls';
import { httpCall } from './http';
import { isMcpActionType } from '../common/mcp';
import { mcpToolFacts } from './mcp/call';
import type { McpDownstream } from './mcp/downstream';

export interface GatherContextInput {
  attemptId: string;
  proposal: Proposal;
}

/** The directory slice an attempt pins: its agent, and every human who could decide or must be recognised as owner. */
export function pinDirectory(config: PlaneConfig, agentId: string): PinnedDirectory {
  const { directory, bundle } = config;
  // Own entries only: an agent ID such as "constructor" must not find Object.prototype's member.
  const agent = Object.hasOwn(directory.agents, agentId) ? directory.agents[agentId] : undefined;
  const deciders = new Set(bundle.approvalGroups);
  const humans: PinnedDirectory['humans'] = {};
  for (const [id, human] of Object.entries(directory.humans)) {
    if (human.groups.some((g) => deciders.has(g)) || id === agent?.owner) {
      humans[id] = { groups: [...human.groups].sort(), publicKeys: [...human.publicKeys] };
    }
  }
  return { version: config.directoryVersion, agent: agent ? { id: agentId, ...agent } : null, humans };
}

export function createContextActivities(runtime: PlaneRuntime, freezes: FreezeState, mcp: McpDownstream | null = null) {
  return {
    /**
     * Captures what the plane knows now: verified facts from the action type's context provider, the pinned
     * directory slice, the policy bundle version, and problems that rule the proposal out (unknown agent or action
     * type, parameters that fail the action type's schema). Read-only, so retries are safe. A provider that still
     * fails on the last of CONTEXT_PROVIDER_ATTEMPTS tries is recorded as `factsError` (the advice then denies).
     * An MCP tool's action type first lists its server's tools again (so a changed tool is a new action type version
     * here, at evaluation and at the re-check; an attempt's first evaluation may use a listing of the last two seconds,
     * `McpDownstream.refreshForEvaluation`), then pins the tool's facts (`McpToolFacts`).
     * With the kill switch configured, a freeze covering the attempt is a problem (`frozen: …`, citing it), and so is
     * a freeze list that cannot be read (fail closed).
     */
    async gatherContext({ attemptId, proposal }: GatherContextInput): Promise<AttemptContext> {
      const server = mcp && isMcpActionType(proposal.actionType) ? proposal.actionType.split('.')[1]! : null;
      let mcpError: string | null = null;
      if (server && mcp!.servers.includes(server)) {
        try {
          await mcp!.refreshForEvaluation(server, attemptId, Context.current().cancellationSignal);
        } catch (err) {
          if (Context.current().info.attempt < CONTEXT_PROVIDER_ATTEMPTS) throw err;
          mcpError = `MCP server "${server}" could not be listed after ${Context.current().info.attempt} attempts: ${(err as Error).message}`;
        }
      }
      const config = runtime.config;
      const actionType = config.actionTypes[proposal.actionType];
      // The same rule the client applies before starting an attempt (common/admission.ts).
      const problems = proposalProblems(config, proposal).map((p) => p.message);
      try {
        const freeze = await freezes.covering(Context.current().client, proposal.agent, proposal.actionType);
        if (freeze) problems.push(frozenProblem(freeze));
      } catch (err) {
        problems.push(`the kill switch's freeze list could not be read (${(err as Error).message}); failing closed`);
      }

      let facts: Record<string, JsonValue> = {};
      let factsError: string | null = mcpError;
      const toolFacts = mcpToolFacts(config, proposal.actionType);
      if (toolFacts) facts = toolFacts as unknown as Record<string, JsonValue>;
      if (actionType?.context && problems.length === 0) {
        const { cancellationSignal: signal, info } = Context.current();
        try {
          facts = await fetchFacts(runtime, actionType.context, attemptId, proposal, signal);
          // Facts are pinned in history and copied into the record: refuse (deny) rather than outgrow the payload limit.
          const size = canonicalSize(facts);
          if (size > LIMITS.factsBytes) {
            facts = {};
            factsError = `the context provider returned ${size} bytes of facts; the limit is ${LIMITS.factsBytes} bytes`;
          }
        } catch (err) {
          // Transient faults are retried by Temporal; a final answer (e.g. 404) or the last try is pinned as-is.
          const final = err instanceof ApplicationFailure && err.nonRetryable;
          if (!final && info.attempt < CONTEXT_PROVIDER_ATTEMPTS) throw err;
          factsError = `context provider failed after ${info.attempt} attempts: ${(err as Error).message}`;
        }
      }
      return {
        capturedAt: new Date().toISOString(),
        facts,
        factsError,
        directory: pinDirectory(config, proposal.agent),
        bundleVersion: config.bundle.version,
        actionType: actionType
          ? {
              name: proposal.actionType,
              version: config.actionTypeVersions[proposal.actionType]!,
              retry: actionType.retry,
              timeout: actionType.timeout,
            }
          : null,
        problems,
      };
    },
  };
}

async function fetchFacts(
  runtime: PlaneRuntime,
  provider: NonNullable<PlaneConfig['actionTypes'][string]['context']>,
  attemptId: string,
  proposal: Proposal,
  signal: AbortSignal,
): Promise<Record<string, JsonValue>> {
  let facts: JsonValue;
  if ('custom' in provider) {
    facts = await runtime.extensions.contextProviders![provider.custom]!({ attemptId, proposal, signal });
  } else {
    const vars = { ...proposal.parameters, resource: proposal.resource, attemptId };
    facts = (await httpCall(provider.http, vars, undefined, AbortSignal.any([signal, AbortSignal.timeout(10_000)]))).body;
  }
  if (!facts || typeof facts !== 'object' || Array.isArray(facts)) throw new Error('context provider did not return a JSON object');
  return facts;
}
