import { ATTEMPT_STATUSES, ATTEMPT_TYPE_CLAUSE, EcpError, type AttemptStatus } from '../common';

/** Filters for listing attempts (`ecp list`, the console); each becomes part of a Temporal visibility query. */
export interface AttemptFilter {
  status?: AttemptStatus;
  agent?: string;
  actionType?: string;
  /** Any of these groups still awaited. */
  awaitingGroups?: string[];
  excludeAgents?: string[];
  /** Only workflows still running. */
  running?: boolean;
}

/** Visibility query text; values are quoted and escaped so filter input cannot change the query's meaning. */
export function buildListQuery(filter: AttemptFilter): string {
  const q = (v: string) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const parts = [ATTEMPT_TYPE_CLAUSE];
  if (filter.status) {
    if (!ATTEMPT_STATUSES.includes(filter.status)) {
      throw new EcpError('invalid_input', `unknown status "${filter.status}"; one of ${ATTEMPT_STATUSES.join(', ')}`, 'status');
    }
    parts.push(`EcpStatus = ${q(filter.status)}`);
  }
  if (filter.running) parts.push(`ExecutionStatus = "Running"`);
  if (filter.agent) parts.push(`EcpAgent = ${q(filter.agent)}`);
  if (filter.actionType) parts.push(`EcpActionType = ${q(filter.actionType)}`);
  if (filter.awaitingGroups?.length) parts.push(`EcpAwaitingGroups IN (${filter.awaitingGroups.map(q).join(', ')})`);
  if (filter.excludeAgents?.length) parts.push(`EcpAgent NOT IN (${filter.excludeAgents.map(q).join(', ')})`);
  return parts.join(' AND ');
}
