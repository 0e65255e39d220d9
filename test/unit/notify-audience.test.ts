/**
 * Who hears "awaiting your decision": every human who may still decide — an approver group's members and, for an
 * overridable requirement or forbid, the override group's — never the agent's owner or someone who already decided.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptEvents } from '../../activities/notify/events';
import type { AttemptRecord } from '../../common';
import { finalRecord } from '../helpers/savedRecords';

const saved = (name: string) =>
  finalRecord(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'replay', 'histories-governance', name), 'utf8')))!;

/** The same attempt as it stood while it waited: nothing met, nobody decided yet. */
function waiting(record: AttemptRecord): AttemptRecord {
  return {
    ...record,
    requirements: record.requirements.map((r) => ({ ...r, met: false, approvedBy: [], overriddenBy: [] })),
    decisions: { ...record.decisions, accepted: [] },
  };
}

describe('awaiting-decision notifications reach whoever may decide', () => {
  it('an overridable forbid (override only): the override group, without the agent owner', () => {
    const record = waiting(saved('overridden-ratified.json'));
    expect(record.requirements[0]).toMatchObject({ kind: 'override', groups: [], overrideBy: ['sre'] });
    const awaiting = attemptEvents(record).find((e) => e.kind === 'awaiting_decision');
    expect(awaiting?.audience).toEqual(['bob', 'dave', 'erin']);
  });

  it('someone who already decided is not asked again', () => {
    const base = waiting(saved('overridden-ratified.json'));
    const record = {
      ...base,
      decisions: { ...base.decisions, accepted: saved('overridden-ratified.json').decisions.accepted.slice(0, 1) },
    };
    const awaiting = attemptEvents(record).find((e) => e.kind === 'awaiting_decision');
    expect(awaiting?.audience).toEqual(['dave', 'erin']);
  });
});
