import type { AttemptRecord } from '../../common';
import { digestOf } from '../../common/canonical';
import type { EvidencePack } from '../../audit/pack/schema';
import { sealPack } from '../../audit/pack/seal';
import { localActivityType, type HistoryEvent } from '../../audit/history';

/** A deep copy to tamper with. */
export const clone = (pack: EvidencePack): EvidencePack => structuredClone(pack);

/** What a careful forger does after editing a part: recompute every digest, so only the semantic checks remain. */
export const reseal = (pack: EvidencePack): EvidencePack => sealPack(pack.attemptId, pack.exportedAt, pack.parts);

/** The pack's record (typed by the record schema the pack is parsed with). */
export const recordOf = (pack: EvidencePack): AttemptRecord => pack.parts.record;
export const eventsOf = (pack: EvidencePack) => pack.parts.history.events as unknown as HistoryEvent[];

/** Recomputes the record's own digest after an edit (a forger would). */
export function redigestRecord(record: AttemptRecord): void {
  const { digest: _old, ...body } = record;
  record.digest = digestOf(body);
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString('utf8');

/** Edits the JSON value inside a base64 payload of the history, in place. */
export function editPayload(payload: { data?: string | null } | undefined, edit: (value: Record<string, unknown>) => void): void {
  if (!payload?.data) throw new Error('no payload to edit');
  const value = JSON.parse(unb64(payload.data)) as Record<string, unknown>;
  edit(value);
  payload.data = b64(JSON.stringify(value));
}

/** Names of the failed (non-advisory) checks. */
export const failedChecks = (v: { checks: { name: string; ok: boolean; advisory?: boolean }[] }) =>
  v.checks.filter((c) => !c.ok && !c.advisory).map((c) => c.name);

/**
 * Edits the context the plane pinned in history at the first evaluation (its directory version), wherever the
 * attempt's workflow code put it: the one-step evaluation marker (`evaluateAttempt`, ECP 0.5), the `gatherContext`
 * local-activity marker (ECP 0.2–0.4) or the first activity result (ECP 0.1).
 */
export function editPinnedContext(events: HistoryEvent[]): void {
  const breakDirectory = (context: Record<string, unknown>) => {
    (context.directory as { version: string }).version = 'sha256:0000';
  };
  const marker = events.find((e) => ['evaluateAttempt', 'gatherContext'].includes(localActivityType(e) ?? ''));
  if (marker) {
    const oneStep = localActivityType(marker) === 'evaluateAttempt';
    editPayload(marker.markerRecordedEventAttributes!.details!.result!.payloads![0], (value) =>
      breakDirectory(oneStep ? (value.context as Record<string, unknown>) : value),
    );
    return;
  }
  const completed = events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED');
  editPayload(completed!.activityTaskCompletedEventAttributes!.result!.payloads![0], breakDirectory);
}
