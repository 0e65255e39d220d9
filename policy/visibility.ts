import type { PolicyBundle } from './bundle';
import { principalAdmits, sliceIndexFor, uidKey } from './slices';

const NO_ANCESTORS: ReadonlySet<string> = new Set();

/**
 * True when some `permit` policy's scope can match this agent and this action (policy/slices.ts: the same scope test
 * that picks the policies evaluated for a request). False means policy denies the action to this agent in every
 * case, whatever the resource, parameters or facts: the MCP gateway hides such tools from the agent.
 */
export function permitCanMatch(bundle: PolicyBundle, agentId: string, actionType: string): boolean {
  const index = sliceIndexFor(bundle);
  const action = { type: 'Action', id: actionType };
  const ids = index.byAction.get(uidKey(action)) ?? index.anyAction;
  const request = { principal: { type: 'Agent', id: agentId }, principalAncestors: NO_ANCESTORS, action };
  return ids.some((id) => bundle.effects[id] === 'permit' && principalAdmits(index.scopes[id]!.principal, request));
}
