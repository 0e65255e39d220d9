import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { LEGACY_WORKFLOW_TYPE, ONE_STEP_EVALUATION_PATCH, QUIET_WAIT_PATCH, WORKFLOW_TYPE } from '../../common';
import { idleTelemetrySinks, prebundleWorkflows } from '../../workflows/bundle';
import { expectLogLine } from '../helpers/quietLogs';
import { replayForResults } from '../../audit/replay/replay';
import { finalRecord } from '../helpers/savedRecords';

const here = dirname(fileURLToPath(import.meta.url));
/** Histories of attempts this version starts: of type `executionAttemptV2` (WORKFLOW_TYPE). */
const dir = join(here, 'histories');
/** Histories of type `executionAttempt` (LEGACY_WORKFLOW_TYPE: ECP 0.5 since evaluations recorded their end, or a starter naming it): one patch marker. */
const oneMarkerDir = join(here, 'histories-one-marker');
/** Histories written by ECP 0.1 (regular activities for context and policy): attempts still open at an upgrade. */
const legacyDir = join(here, 'histories-v0.1');
/** Histories written by ECP 0.2 (local-activity evaluation, before the integrity rules: no `ecp-integrity` marker). */
const v02Dir = join(here, 'histories-v0.2');
/** Histories written by ECP 0.3 (integrity rules, before the quiet wait: no `ecp-quiet-wait` marker). */
const v03Dir = join(here, 'histories-v0.3');
/** Histories written by ECP 0.4 (quiet wait, before one-step evaluation: four patch markers, three evaluation markers). */
const v04Dir = join(here, 'histories-v0.4');
/** Histories written by ECP 0.5 before evaluations recorded when they ended (no `evaluatedAt`: the workflow clock times what follows). */
const v05Dir = join(here, 'histories-v0.5');
/** An attempt whose policy gave no advice, recorded by this version and by ECP 0.5 (record-failed-evaluation-histories.ts). */
const failedEvaluationDir = join(here, 'histories-failed-evaluation');
const historyFiles = (d: string) =>
  readdirSync(d)
    .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
    .sort();
const files = historyFiles(dir);
const legacyFiles = historyFiles(legacyDir);
const v02Files = historyFiles(v02Dir);
const v03Files = historyFiles(v03Dir);
const v04Files = historyFiles(v04Dir);
const v05Files = historyFiles(v05Dir);
const oneMarkerFiles = historyFiles(oneMarkerDir);
const workflowIds = JSON.parse(readFileSync(join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const legacyWorkflowIds = JSON.parse(readFileSync(join(legacyDir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const v04WorkflowIds = JSON.parse(readFileSync(join(v04Dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const v05WorkflowIds = JSON.parse(readFileSync(join(v05Dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const oneMarkerWorkflowIds = JSON.parse(readFileSync(join(oneMarkerDir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const v03WorkflowIds = JSON.parse(readFileSync(join(v03Dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const v02WorkflowIds = JSON.parse(readFileSync(join(v02Dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
/** The patch marker's data as saved histories hold it (base64 of its JSON payload). */
const markerData = (id: string) => Buffer.from(JSON.stringify({ id, deprecated: false })).toString('base64');
const QUIET_WAIT_MARKER_DATA = markerData(QUIET_WAIT_PATCH);
const ONE_STEP_MARKER_DATA = markerData(ONE_STEP_EVALUATION_PATCH);
interface SavedEvent {
  markerRecordedEventAttributes?: { markerName: string; details?: Record<string, { payloads: Array<{ data: string }> }> };
  activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  workflowExecutionCompletedEventAttributes?: { result: { payloads: Array<{ data: string }> } };
}
/** The workflow type a saved history's first event names. */
const workflowTypeOf = (events: SavedEvent[]) =>
  (events[0] as { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }).workflowExecutionStartedEventAttributes
    ?.workflowType?.name;
const load = (file: string, from = dir) => JSON.parse(readFileSync(join(from, file), 'utf8')) as { events: SavedEvent[] };

// The sinks the bundle's interceptors call (workflows/interceptors.ts); a replay worker calls none of them.
const sinks = idleTelemetrySinks();
let workflowBundle: Awaited<ReturnType<typeof prebundleWorkflows>>;
beforeAll(async () => {
  workflowBundle = await prebundleWorkflows();
});

describe('saved histories replay against the current workflow code', () => {
  it('covers every lifecycle path', () => {
    expect(files).toEqual([
      'cancelled.json',
      'denied.json',
      'expired.json',
      'failed.json',
      'invalid-proposal.json',
      'rejected.json',
      'succeeded-after-signal-flood.json',
      'succeeded-auto.json',
      'succeeded-quorum.json',
    ]);
    const statuses = Object.fromEntries(files.map((f) => [f, finalRecord(load(f))?.status ?? 'workflow failed']));
    expect(statuses).toEqual({
      'cancelled.json': 'CANCELLED',
      'denied.json': 'DENIED',
      'expired.json': 'EXPIRED',
      'failed.json': 'FAILED',
      'invalid-proposal.json': 'workflow failed',
      'rejected.json': 'REJECTED',
      'succeeded-after-signal-flood.json': 'SUCCEEDED',
      'succeeded-auto.json': 'SUCCEEDED',
      'succeeded-quorum.json': 'SUCCEEDED',
    });
  });

  it.each(files)('%s replays cleanly', async (file) => {
    await expect(Worker.runReplayHistory({ workflowBundle, sinks }, load(file), workflowIds[file])).resolves.toBeUndefined();
  });

  it('the flooded attempt took its signals a slice per workflow task, and every one is accounted for', () => {
    const history = load('succeeded-after-signal-flood.json') as { events: Array<Record<string, unknown>> };
    const timers = history.events.filter((e) => e.timerStartedEventAttributes).length;
    const signals = history.events.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    expect(signals).toBe(600);
    expect(timers).toBeGreaterThanOrEqual(3);
    expect(finalRecord(load('succeeded-after-signal-flood.json'))?.decisions.refusedTotal).toBe(600);
  });

  it('attempts that waited for a decision started the wait in a workflow task of their own (ecp-quiet-wait)', () => {
    const marked = (file: string, from = dir) => readFileSync(join(from, file), 'utf8').includes(QUIET_WAIT_MARKER_DATA);
    for (const waited of ['expired.json', 'rejected.json', 'succeeded-quorum.json']) {
      expect(marked(waited, v04Dir)).toBe(true);
      expect(marked(waited, v03Dir)).toBe(false);
    }
  });

  /** The patch markers' data and the local activities' types in a saved history. */
  const markersOf = (events: SavedEvent[]) => ({
    patches: events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
      .map((e) => e.markerRecordedEventAttributes!.details!['patch-data']!.payloads[0]!.data),
    localActivities: events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .map(
        (e) =>
          (
            JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads[0]!.data, 'base64').toString()) as {
              activity_type: string;
            }
          ).activity_type,
      ),
  });
  const eventTypes = (events: SavedEvent[]) => events.map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes')));

  it('attempts of type executionAttemptV2 record no patch marker and no memo write, and evaluate in one local activity per evaluation', () => {
    for (const file of files) {
      const { events } = load(file);
      expect(workflowTypeOf(events), file).toBe(WORKFLOW_TYPE);
      const { patches, localActivities } = markersOf(events);
      expect(patches, file).toEqual([]);
      expect(eventTypes(events), file).not.toContain('workflowPropertiesModifiedEventAttributes');
      expect(new Set(localActivities), file).toEqual(new Set(localActivities.length ? ['evaluateAttempt'] : []));
    }
    // An auto-allowed attempt: 3 events fewer than one of the legacy type (the marker, its search attribute,
    // the memo), 9 fewer than ECP 0.4's (3 patch markers and their search attributes, 3 evaluation markers → 1).
    expect(load('succeeded-auto.json').events.length).toBe(load('succeeded-auto.json', oneMarkerDir).events.length - 3);
    expect(load('succeeded-auto.json').events.length).toBe(load('succeeded-auto.json', v04Dir).events.length - 9);
  });

  it('attempts of type executionAttempt record one patch marker, and evaluate in one local activity per evaluation', () => {
    expect(oneMarkerFiles).toEqual(files);
    for (const file of oneMarkerFiles) {
      const { events } = load(file, oneMarkerDir);
      expect(workflowTypeOf(events), file).toBe(LEGACY_WORKFLOW_TYPE);
      const { patches, localActivities } = markersOf(events);
      expect(patches, file).toEqual([ONE_STEP_MARKER_DATA]);
      expect(new Set(localActivities), file).toEqual(new Set(localActivities.length ? ['evaluateAttempt'] : []));
    }
  });

  it.each(oneMarkerFiles)('%s of type executionAttempt replays cleanly', async (file) => {
    await expect(
      Worker.runReplayHistory({ workflowBundle, sinks }, load(file, oneMarkerDir), oneMarkerWorkflowIds[file]),
    ).resolves.toBeUndefined();
  });

  it('a waiting attempt starts its wait with at most 10 events after the last completed workflow task (refused updates leave no trace)', () => {
    for (const waited of ['expired.json', 'rejected.json', 'succeeded-quorum.json']) {
      const events = load(waited).events as Array<Record<string, unknown>>;
      const firstCompleted = events.findIndex((e) => e.workflowTaskCompletedEventAttributes);
      const nextScheduled = events.findIndex((e, i) => i > firstCompleted && e.workflowTaskScheduledEventAttributes);
      const tail = (nextScheduled === -1 ? events.length : nextScheduled) - firstCompleted - 1;
      // Temporal's history.discardSpeculativeWorkflowTaskMaximumEventsCount (default 10); see QUIET_WAIT_PATCH.
      expect(tail, waited).toBeLessThanOrEqual(10);
      expect(readFileSync(join(dir, waited), 'utf8').includes(QUIET_WAIT_MARKER_DATA), waited).toBe(false);
    }
  });

  it.each(v05Files)('%s from ECP 0.5 replays cleanly (before evaluations recorded their end)', async (file) => {
    expect(v05Files).toEqual(files);
    await expect(Worker.runReplayHistory({ workflowBundle, sinks }, load(file, v05Dir), v05WorkflowIds[file])).resolves.toBeUndefined();
  });

  it('evaluations record when they ended since ECP 0.5 recorded these histories; both replay to exactly their saved records', async () => {
    const ended = (from: string) =>
      historyFiles(from).flatMap((file) =>
        load(file, from)
          .events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
          .map(
            (e) =>
              'evaluatedAt' in
              JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!.result!.payloads[0]!.data, 'base64').toString()),
          ),
      );
    expect(new Set(ended(dir))).toEqual(new Set([true]));
    expect(new Set(ended(oneMarkerDir))).toEqual(new Set([true]));
    expect(new Set(ended(v05Dir))).toEqual(new Set([false]));
    for (const [from, ids] of [
      [dir, workflowIds],
      [oneMarkerDir, oneMarkerWorkflowIds],
      [v05Dir, v05WorkflowIds],
    ] as const) {
      const withRecords = historyFiles(from).filter((file) => finalRecord(load(file, from)) !== null);
      const outcomes = await replayForResults(withRecords.map((file) => ({ history: load(file, from), workflowId: ids[file]! })));
      expect(outcomes, from).toEqual(withRecords.map((file) => ({ ok: true, result: finalRecord(load(file, from)) })));
    }
  });

  it('a policy that gave no advice times the DENIED by its failure since it was recorded; ECP 0.5 replays as it ran', async () => {
    const failed = historyFiles(failedEvaluationDir);
    expect(failed).toEqual(['policy-unavailable-v0.5.json', 'policy-unavailable.json']);
    const ids = JSON.parse(readFileSync(join(failedEvaluationDir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
    const histories = failed.map((file) => load(file, failedEvaluationDir));
    const outcomes = await replayForResults(histories.map((history, i) => ({ history, workflowId: ids[failed[i]!]! })));
    expect(outcomes).toEqual(histories.map((history) => ({ ok: true, result: finalRecord(history) })));
    const evaluation = (history: { events: SavedEvent[] }) => {
      const marker = history.events.find((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')!;
      const data = marker.markerRecordedEventAttributes!.details!.result!.payloads[0]!.data;
      return JSON.parse(Buffer.from(data, 'base64').toString()) as { policyError: string; evaluatedAt: string; policyFailedAt?: string };
    };
    const denied = (history: { events: SavedEvent[] }) => finalRecord(history)!.timeline.at(-1)!;
    const [before, now] = histories as [{ events: SavedEvent[] }, { events: SavedEvent[] }];
    for (const history of histories) expect(evaluation(history).policyError).toBe('the policy engine is unavailable');
    // Now: the DENIED takes the failure's recorded time (three tries in). ECP 0.5 recorded `evaluatedAt` beside the
    // error but took the workflow clock of the task that scheduled the evaluation, and its record stays exactly that.
    expect(denied(now)).toMatchObject({ status: 'DENIED', at: evaluation(now).policyFailedAt });
    expect(evaluation(before).policyFailedAt).toBeUndefined();
    expect(Date.parse(denied(before).at)).toBeLessThan(Date.parse(evaluation(before).evaluatedAt) - 1_000);
  });

  it.each(v04Files)('%s from ECP 0.4 replays cleanly (before one-step evaluation)', async (file) => {
    expect(v04Files).toEqual(files);
    await expect(Worker.runReplayHistory({ workflowBundle, sinks }, load(file, v04Dir), v04WorkflowIds[file])).resolves.toBeUndefined();
  });

  it.each(v03Files)('%s from ECP 0.3 replays cleanly (before the quiet wait)', async (file) => {
    expect(v03Files).toEqual(files);
    await expect(Worker.runReplayHistory({ workflowBundle, sinks }, load(file, v03Dir), v03WorkflowIds[file])).resolves.toBeUndefined();
  });

  it.each(v02Files)('%s from ECP 0.2 replays cleanly (before the integrity rules)', async (file) => {
    await expect(Worker.runReplayHistory({ workflowBundle, sinks }, load(file, v02Dir), v02WorkflowIds[file])).resolves.toBeUndefined();
  });

  it.each(legacyFiles)('%s from ECP 0.1 replays cleanly (patched evaluation)', async (file) => {
    expect(legacyFiles).toEqual(v02Files);
    await expect(
      Worker.runReplayHistory({ workflowBundle, sinks }, load(file, legacyDir), legacyWorkflowIds[file]),
    ).resolves.toBeUndefined();
  });

  it('the two types differ only in their markers: an executionAttemptV2 history does not replay as executionAttempt', async () => {
    const history = load('succeeded-auto.json') as unknown as {
      events: Array<{ workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }>;
    };
    history.events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name = LEGACY_WORKFLOW_TYPE;
    // As the legacy type the code asks for the patch marker, which this history never recorded.
    expectLogLine(/^Failing workflow task .*\[TMPRL1100\] Nondeterminism error/);
    await expect(Worker.runReplayHistory({ workflowBundle, sinks }, history, workflowIds['succeeded-auto.json'])).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });

  it('fails with DeterminismViolationError when the history no longer matches the code', async () => {
    const history = load('succeeded-auto.json');
    // Pretend the code once scheduled a different activity: replay must notice, not silently diverge.
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    expect(scheduled.activityTaskScheduledEventAttributes!.activityType.name).toBe('executeAction');
    scheduled.activityTaskScheduledEventAttributes!.activityType.name = 'gatherContext';
    // Core warns about the failed workflow task this test provokes; keep that expected warning out of the output. Core's
    // log lines are forwarded in batches, possibly after the test: the expectation waits for the line, however late.
    expectLogLine(/^Failing workflow task .*\[TMPRL1100\] Nondeterminism error/);
    await expect(Worker.runReplayHistory({ workflowBundle, sinks }, history, workflowIds['succeeded-auto.json'])).rejects.toBeInstanceOf(
      DeterminismViolationError,
    );
  });
});
