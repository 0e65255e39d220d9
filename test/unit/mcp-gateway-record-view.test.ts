/** The gateway reads a closed attempt's record through a narrow schema (gateway/recordView.ts): same answers, still parsed. */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRecord, type AttemptRecord } from '../../common/record';
import { parseRecordView } from '../../gateway/recordView';
import { pendingResult, progressMessage, resultForRecord } from '../../gateway/results';
import { loadSavedHistory, rawFinalRecord, recordRefusal, savedHistoryFiles } from '../helpers/savedRecords';

const saved = savedHistoryFiles()
  .map((file) => ({ file, raw: rawFinalRecord(loadSavedHistory(file)) }))
  .filter((s): s is { file: string; raw: AttemptRecord } => s.raw !== null);
const CONSOLE = 'http://localhost:8088';

/** The EcpError `parseRecordView` throws. */
const refusal = (input: unknown) => recordRefusal((r) => parseRecordView(r, 'record of att-x'), input);

describe("the gateway's view of a record", () => {
  it('has saved records of every closed status to compare', () => {
    expect(new Set(saved.map((s) => s.raw.status))).toEqual(new Set(['CANCELLED', 'DENIED', 'EXPIRED', 'FAILED', 'REJECTED', 'SUCCEEDED']));
  });

  it.each(saved.map((s) => [`${basename(s.file)} (${s.file.split('/').at(-2)})`, s.raw] as const))(
    'answers %s exactly as the full record does',
    (_name, raw) => {
      const full = parseRecord(raw);
      const view = parseRecordView(structuredClone(raw), 'record');
      expect(resultForRecord(view, CONSOLE)).toEqual(resultForRecord(full, CONSOLE));
      expect(pendingResult(view, CONSOLE)).toEqual(pendingResult(full, CONSOLE));
      expect(progressMessage(view)).toBe(progressMessage(full));
    },
  );

  it('keeps what the pending answer quotes: only the requirements not met yet, with their progress', () => {
    const base = structuredClone(saved.find((s) => s.raw.requirements.length > 0)!.raw);
    const [first] = base.requirements;
    base.requirements = [
      { ...first!, groups: ['finance'], quorum: 1, approvedBy: ['alice'], met: true },
      { ...first!, groups: ['sre', 'ops'], quorum: 2, approvedBy: ['bob'], met: false },
    ];
    const full = parseRecord(base);
    const view = parseRecordView(structuredClone(base), 'record');
    expect(progressMessage({ ...view, status: 'AWAITING_DECISION' })).toContain('awaiting approval from sre or ops (1/2), deadline');
    expect(pendingResult(view, CONSOLE)).toEqual(pendingResult(full, CONSOLE));
  });

  it("keeps a succeeded attempt's downstream result whole, whatever its shape", () => {
    const base = saved.find((s) => s.raw.status === 'SUCCEEDED')!.raw;
    const result = { content: [{ type: 'text', text: 'hi' }], structuredContent: { a: [1, { b: null }] }, _meta: { x: 'y' }, extra: true };
    const view = parseRecordView({ ...structuredClone(base), outcome: { ok: true, result, finishedAt: base.outcome!.finishedAt } }, 'r');
    expect(view.outcome).toEqual({ ok: true, result });
    expect(resultForRecord(view, CONSOLE)).toMatchObject({ ...result, _meta: { x: 'y', 'ecp/attemptId': base.attemptId } });
  });

  it.each<[string, (r: Record<string, unknown>) => void, string]>([
    ['an unknown status', (r) => (r.status = 'DONE'), 'status'],
    ['no attempt ID', (r) => delete r.attemptId, 'attemptId'],
    ['an outcome without its result', (r) => (r.outcome = { ok: true }), 'outcome.result'],
    ['a failure without its message', (r) => (r.outcome = { ok: false, error: { type: 'X' } }), 'outcome.error.message'],
    ['reasons that are not text', (r) => (r.advice = { reasons: [1] }), 'advice.reasons[0]'],
    [
      'a quorum that is not a number',
      (r) => ((r.requirements as unknown[])[0] = { groups: [], quorum: '1', approvedBy: [], met: false }),
      'requirements[0].quorum',
    ],
  ])('refuses %s, naming the field', (_what, change, field) => {
    const raw = structuredClone(saved.find((s) => s.raw.status === 'SUCCEEDED' && s.raw.requirements.length > 0)!.raw) as unknown as Record<
      string,
      unknown
    >;
    change(raw);
    const err = refusal(raw);
    expect(err.code).toBe('invalid_input');
    expect(err.message).toContain(`field "${field}"`);
  });
});
