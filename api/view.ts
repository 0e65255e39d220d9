import type { z } from 'zod';
import { compareClaims } from '../common/claims';
import type { AttemptRecord } from '../common/record';
import { textWarnings, type TextWarning } from '../common/textWarnings';
import type { attemptViewSchema } from './schemas';

/**
 * The console API's answer for one attempt (its schema, api/schemas.ts, is the one the OpenAPI document shows): the
 * record, claims beside facts, text warnings, and whether this human may decide.
 */
export type AttemptView = z.output<typeof attemptViewSchema>;

/**
 * What the console shows for one attempt: the record itself, the claims-vs-facts comparison, warnings for strings
 * that may imitate another value (common/textWarnings.ts, the same rule as `ecp show`), and whether this human
 * may decide — computed from the directory pinned in the record, mirroring the workflow's rules. It only decides
 * whether buttons are offered; the workflow checks every decision again.
 */
export function attemptView(record: AttemptRecord, human: string, now = Date.now()): AttemptView {
  return {
    record,
    claims: compareClaims(record.proposal.claims, record.context?.facts ?? null),
    textWarnings: proposalTextWarnings(record),
    viewer: whyNot(record, human, now),
    serverTime: new Date(now).toISOString(),
  };
}

function whyNot(record: AttemptRecord, human: string, now: number): AttemptView['viewer'] {
  const no = (why: string) => ({ mayDecide: false, why });
  if (record.status !== 'AWAITING_DECISION') return no(`the attempt is ${record.status}, not awaiting a decision`);
  if (record.deadline && Date.parse(record.deadline) < now) return no('the decision deadline has passed');
  const directory = record.context?.directory;
  const agent = directory?.agent;
  if (agent && agent.owner === human) return no(`you own the proposing agent "${agent.id}"`);
  const pinned = directory?.humans[human];
  const required = new Set(record.requirements.flatMap((r) => r.groups));
  if (!pinned || !pinned.groups.some((g) => required.has(g))) return no(`you are in none of the required groups (${[...required].join(', ')})`);
  if (record.decisions.accepted.some((d) => d.human === human)) return no('you have already decided on this attempt');
  return { mayDecide: true, why: null };
}

/** Text warnings for a record's parameters and claims, as the console API and `ecp show` report them. */
export function proposalTextWarnings(record: Pick<AttemptRecord, 'proposal'>): TextWarning[] {
  return [...textWarnings(record.proposal.parameters, 'parameters'), ...textWarnings(record.proposal.claims ?? {}, 'claims')];
}
