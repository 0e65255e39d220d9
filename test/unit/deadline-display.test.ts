import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../../common/record';
import { deadlineText } from '../../common/timeFormat';
import { renderRecord } from '../../cli/recordView';
import { finalRecord, loadSavedHistory, SAVED_HISTORY_DIRS } from '../helpers/savedRecords';

const now = Date.parse('2026-01-01T11:01:00.000Z');
const deadline = '2026-01-01T12:00:00.000Z';

// A real record (read and parsed from a saved history), with the status and deadline each case needs.
const saved = finalRecord(loadSavedHistory(join(SAVED_HISTORY_DIRS[0]!, 'expired.json')))!;
const record = (status: AttemptRecord['status']): AttemptRecord => ({ ...saved, status, deadline });

const deadlineLine = (text: string) => text.split('\n').find((l) => l.trim().startsWith('deadline'));

describe('the deadline of an attempt, as people see it', () => {
  it('counts down while the attempt awaits a decision', () => {
    expect(deadlineLine(renderRecord(record('AWAITING_DECISION'), now))).toMatch(/2026-01-01 12:00:00Z \(in 59m\)/);
  });

  it('shows no countdown once the attempt is closed, and says why the deadline no longer matters', () => {
    const line = deadlineLine(renderRecord(record('SUCCEEDED'), now));
    expect(line).toContain('2026-01-01 12:00:00Z (not needed: closed SUCCEEDED)');
    expect(line).not.toMatch(/\bin \d/);
    expect(deadlineLine(renderRecord(record('EXPIRED'), Date.parse(deadline) + 1000))).toContain('(reached: EXPIRED)');
  });

  it('is the same text for the console (shared helper)', () => {
    expect(deadlineText(deadline, 'REJECTED', true, now)).toBe('2026-01-01 12:00:00Z (not needed: closed REJECTED)');
    expect(deadlineText(null, 'SUCCEEDED', true, now)).toBe('—');
  });
});
