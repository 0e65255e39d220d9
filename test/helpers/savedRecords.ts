import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EcpError } from '../../common/errors';
import { parseRecord, type AttemptRecord } from '../../common/record';

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where saved histories live: this version's (of both attempt workflow types), failed evaluations', ECP 0.5's (before
 * `evaluatedAt`), 0.4's, 0.3's, 0.1's, and the audit fixtures.
 */
export const SAVED_HISTORY_DIRS = [
  join(testDir, 'replay', 'histories'),
  join(testDir, 'replay', 'histories-one-marker'),
  join(testDir, 'replay', 'histories-failed-evaluation'),
  join(testDir, 'replay', 'histories-v0.5'),
  join(testDir, 'replay', 'histories-v0.4'),
  join(testDir, 'replay', 'histories-v0.3'),
  join(testDir, 'replay', 'histories-v0.1'),
  join(testDir, 'audit', 'fixtures'),
];

/** A saved history in proto3 JSON, as much of it as reading its record needs. */
export interface SavedHistory {
  events: Array<{ workflowExecutionCompletedEventAttributes?: { result?: { payloads?: Array<{ data?: string }> } } }>;
}

/** Every saved history file (absolute paths), `workflow-ids.json` left out. */
export function savedHistoryFiles(): string[] {
  return SAVED_HISTORY_DIRS.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
      .sort()
      .map((f) => join(dir, f)),
  );
}

export const loadSavedHistory = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as SavedHistory;

/** The completion result a saved history ends with, as stored (a JSON payload, base64 in proto3 JSON); null if none. */
export function rawFinalRecord(history: SavedHistory): unknown {
  const data = history.events.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  return data ? (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as unknown) : null;
}

/** The final record a saved history ends with, parsed against the record schema; null for a failed workflow. */
export function finalRecord(history: SavedHistory): AttemptRecord | null {
  const raw = rawFinalRecord(history);
  return raw === null ? null : parseRecord(raw, 'saved record');
}

/** The EcpError `parse` refuses `input` with, so a test can check the field it names; throws if it is accepted. */
export function recordRefusal(parse: (input: unknown) => unknown, input: unknown): EcpError {
  try {
    parse(input);
  } catch (err) {
    if (err instanceof EcpError) return err;
    throw err;
  }
  throw new Error('the record was accepted');
}
