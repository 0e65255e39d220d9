import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { AttemptStatus } from './record';

/** Search attributes that let `temporal workflow list --query` find attempts. */
export const statusKey = defineSearchAttributeKey('EcpStatus', SearchAttributeType.KEYWORD);
/** The proposing agent. */
export const agentKey = defineSearchAttributeKey('EcpAgent', SearchAttributeType.KEYWORD);
/** The proposal's action type. */
export const actionTypeKey = defineSearchAttributeKey('EcpActionType', SearchAttributeType.KEYWORD);
/** The proposal hash. */
export const proposalHashKey = defineSearchAttributeKey('EcpProposalHash', SearchAttributeType.KEYWORD);
/** Groups whose approvals are still needed; empty once requirements are met or the attempt is not waiting. */
export const awaitingGroupsKey = defineSearchAttributeKey('EcpAwaitingGroups', SearchAttributeType.KEYWORD_LIST);
/** The decision deadline while the attempt awaits a decision; null otherwise. */
export const deadlineKey = defineSearchAttributeKey('EcpDeadline', SearchAttributeType.DATETIME);
/**
 * The plane's listing seal over this run (client/listingSeal.ts), published by the workflow together with every
 * field above (and after it wrote the memo's `resource`); listings drop rows without a valid one.
 */
export const sealKey = defineSearchAttributeKey('EcpSeal', SearchAttributeType.KEYWORD);

/** Every search attribute ECP registers and publishes. */
export const ECP_SEARCH_ATTRIBUTES = [statusKey, agentKey, actionTypeKey, proposalHashKey, awaitingGroupsKey, deadlineKey, sealKey];

/**
 * An attempt as listings show it (inbox, `ecp pending`/`list`, the console): read from its search attributes and memo,
 * listed only with a valid listing seal. `UNKNOWN` when the status attribute is missing.
 */
export interface AttemptSummary {
  attemptId: string;
  status: AttemptStatus | 'UNKNOWN';
  agent: string | null;
  actionType: string | null;
  resource: string | null;
  awaitingGroups: string[];
  deadline: string | null;
  startedAt: string;
  closedAt: string | null;
}
