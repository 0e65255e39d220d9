import { describe, expect, it } from 'vitest';
import { answerFor } from '../../adapters/answers';
import type { AttemptRecord } from '../../common';

/** The parts of a record `answerFor` reads; the rest of a real record does not change the answer. */
function record(fields: Partial<AttemptRecord>): AttemptRecord {
  return {
    attemptId: 'att-0123',
    status: 'PROPOSED',
    deadline: null,
    advice: null,
    requirements: [],
    decisions: { accepted: [], refused: [], refusedTotal: 0 },
    outcome: null,
    timeline: [],
    ...fields,
  } as AttemptRecord;
}

const at = '2026-01-01T00:00:00.000Z';

describe('what a governed tool answers for each attempt status', () => {
  it('gives each closed status its own plain answer, with the reasons it did not run', () => {
    const rejected = answerFor(
      record({
        status: 'REJECTED',
        decisions: {
          accepted: [
            { human: 'alice', verdict: 'reject', reason: 'photos do not match' } as AttemptRecord['decisions']['accepted'][number],
          ],
          refused: [],
          refusedTotal: 0,
        },
      }),
      'http://c',
    );
    expect(rejected).toMatchObject({ outcome: 'rejected', reasons: ['alice: photos do not match'] });
    expect(rejected.text).toMatch(/^REJECTED: .*alice: photos do not match/);

    const expired = answerFor(
      record({ status: 'EXPIRED', deadline: at, timeline: [{ status: 'EXPIRED', at, note: 'no decision' }] }),
      'http://c',
    );
    expect(expired.outcome).toBe('expired');
    expect(expired.text).toMatch(/^EXPIRED: .*2026-01-01T00:00:00.000Z/);

    const failed = answerFor(
      record({ status: 'FAILED', outcome: { ok: false, error: { type: 'HttpStatusError', message: 'target said 404' }, finishedAt: at } }),
      'http://c',
    );
    expect(failed).toMatchObject({ outcome: 'failed', reasons: ['HttpStatusError: target said 404'] });
    expect(failed.text).toMatch(/^FAILED: .*target said 404/);

    const cancelled = answerFor(record({ status: 'CANCELLED' }), 'http://c');
    expect(cancelled.outcome).toBe('cancelled');
    expect(cancelled.text).toMatch(/^CANCELLED: /);

    const texts = [rejected, expired, failed, cancelled].map((a) => a.text.split(':')[0]);
    expect(new Set(texts).size).toBe(4);
  });

  it('never reports success without an executor result, and answers unknown open states as in progress', () => {
    expect(answerFor(record({ status: 'SUCCEEDED' }), 'http://c').outcome).toBe('failed');
    const executing = answerFor(record({ status: 'EXECUTING' }), 'http://c/');
    expect(executing.outcome).toBe('in_progress');
    expect(executing.text).toContain('http://c/attempts/att-0123');
  });

  it('pending names who must approve, the deadline and the console link, and is not worded as an error', () => {
    const pending = answerFor(
      record({
        status: 'AWAITING_DECISION',
        deadline: at,
        requirements: [
          { policyId: 'p', groups: ['finance'], quorum: 2, deadlineSeconds: 3600, onExpiry: 'expire', approvedBy: ['alice'], met: false },
        ],
      }),
      'http://console.test',
    );
    expect(pending.outcome).toBe('pending');
    expect(pending.text).toContain('1 approval(s) from finance until 2026-01-01T00:00:00.000Z');
    expect(pending.text).toContain('http://console.test/attempts/att-0123');
    expect(pending.text).not.toMatch(/denied:|error/i);
  });
});
