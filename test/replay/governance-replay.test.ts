/**
 * Saved histories of the governance paths (issue 13, docs/governance.md) replay against the current workflow code.
 * Three generations: attempts of type `executionAttemptV2` (histories-governance, ECP 0.6: no patch marker); those
 * of the legacy type `executionAttempt` with the `ecp-one-step-evaluation` marker, which stands for `ecp-governance`
 * too (histories-governance-one-marker, ECP 0.5); and those ECP 0.4 recorded (histories-governance-v0.4), which
 * carry `ecp-governance` itself. The histories recorded before governance (histories-v0.1 … -v0.3) replay without
 * it in replay.test.ts. Re-record the first with `npx tsx test/replay/record-governance-histories.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { GOVERNANCE_PATCH, LEGACY_WORKFLOW_TYPE, ONE_STEP_EVALUATION_PATCH, WORKFLOW_TYPE } from '../../common';
import { parseHistoryJson } from '../../audit/pack/build';
import { loadedConverter } from '../../audit/payloads';
import { buildTimeline } from '../../audit/timeline';
import { idleTelemetrySinks, prebundleWorkflows } from '../../workflows/bundle';
import { finalRecord } from '../helpers/savedRecords';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'histories-governance');
const oneMarkerDir = join(dir, '..', 'histories-governance-one-marker');
const v04Dir = join(dir, '..', 'histories-governance-v0.4');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
  .sort();
const idsIn = (from: string) => JSON.parse(readFileSync(join(from, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const workflowIds = idsIn(dir);
const oneMarkerWorkflowIds = idsIn(oneMarkerDir);
const v04WorkflowIds = idsIn(v04Dir);
const load = (file: string, from = dir) => JSON.parse(readFileSync(join(from, file), 'utf8')) as { events: Array<Record<string, unknown>> };
const workflowTypeOf = (history: { events: Array<Record<string, unknown>> }) =>
  (history.events[0]!.workflowExecutionStartedEventAttributes as { workflowType: { name: string } }).workflowType.name;

let workflowBundle: Awaited<ReturnType<typeof prebundleWorkflows>>;
beforeAll(async () => {
  workflowBundle = await prebundleWorkflows();
});

describe('saved governance histories replay against the current workflow code', () => {
  it.each([dir, oneMarkerDir].map((from) => [basename(from), from]))(
    '%s covers each governance path, with the outcome it had',
    (_, from) => {
      const outcome = (f: string) => {
        const r = finalRecord(load(f, from) as never)!;
        return {
          status: r.status,
          events: r.timeline.flatMap((t) => (t.event ? [t.event] : [])),
          ratifiedBy: r.governance?.ratification?.ratifiedBy ?? null,
        };
      };
      expect(Object.fromEntries(files.map((f) => [f, outcome(f)]))).toEqual({
        'controls-changed-denied.json': { status: 'DENIED', events: ['controls_changed'], ratifiedBy: null },
        'controls-changed-kept.json': { status: 'SUCCEEDED', events: ['controls_changed'], ratifiedBy: null },
        'escalated-twice.json': { status: 'SUCCEEDED', events: ['escalated', 'reminder', 'escalated'], ratifiedBy: null },
        'overridden-ratified.json': { status: 'SUCCEEDED', events: ['overridden', 'ratified'], ratifiedBy: 'alice' },
        'overridden-unratified.json': { status: 'SUCCEEDED', events: ['overridden', 'ratification_missed'], ratifiedBy: null },
      });
    },
  );

  /** Patch markers in a history: the patch ids their payloads name. */
  const patchIds = (events: Array<Record<string, unknown>>) =>
    events.flatMap((e) => {
      const marker = e.markerRecordedEventAttributes as
        { markerName: string; details: { 'patch-data': { payloads: Array<{ data: string }> } } } | undefined;
      if (marker?.markerName !== 'core_patch') return [];
      return [(JSON.parse(Buffer.from(marker.details['patch-data'].payloads[0]!.data, 'base64').toString('utf8')) as { id: string }).id];
    });

  it.each(files)(
    '%s: the V2 attempt carries no patch marker, the legacy one the one-step marker (ECP 0.4: the ecp-governance marker); histories recorded before carry neither',
    (file) => {
      expect(workflowTypeOf(load(file))).toBe(WORKFLOW_TYPE);
      expect(patchIds(load(file).events)).toEqual([]);
      expect(workflowTypeOf(load(file, oneMarkerDir))).toBe(LEGACY_WORKFLOW_TYPE);
      expect(patchIds(load(file, oneMarkerDir).events)).toEqual([ONE_STEP_EVALUATION_PATCH]);
      expect(patchIds(load(file, v04Dir).events).filter((id) => id === GOVERNANCE_PATCH)).toHaveLength(1);
      const before = join(dir, '..', 'histories-v0.3');
      for (const old of readdirSync(before).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')) {
        const events = (JSON.parse(readFileSync(join(before, old), 'utf8')) as { events: Array<Record<string, unknown>> }).events;
        expect(patchIds(events)).not.toContain(GOVERNANCE_PATCH);
        expect(patchIds(events)).not.toContain(ONE_STEP_EVALUATION_PATCH);
      }
    },
  );

  it.each(files)('%s replays cleanly', async (file) => {
    await expect(
      Worker.runReplayHistory({ workflowBundle, sinks: idleTelemetrySinks() }, load(file) as never, workflowIds[file]),
    ).resolves.toBeUndefined();
  });

  it.each(files)('%s as ECP 0.5 recorded it (legacy type, one-step marker) replays cleanly', async (file) => {
    await expect(
      Worker.runReplayHistory(
        { workflowBundle, sinks: idleTelemetrySinks() },
        load(file, oneMarkerDir) as never,
        oneMarkerWorkflowIds[file],
      ),
    ).resolves.toBeUndefined();
  });

  it.each(files)('%s as ECP 0.4 recorded it replays cleanly', async (file) => {
    await expect(
      Worker.runReplayHistory({ workflowBundle, sinks: idleTelemetrySinks() }, load(file, v04Dir) as never, v04WorkflowIds[file]),
    ).resolves.toBeUndefined();
  });

  it('the audit timeline names escalations, reminders and early re-checks, never as the decision deadline', async () => {
    const titles = async (file: string) =>
      (await buildTimeline(parseHistoryJson(load(file)), loadedConverter())).steps.map((step) => `${step.kind}: ${step.title}`);
    const escalated = await titles('escalated-twice.json');
    expect(escalated.filter((t) => /escalated|reminder|deadline/.test(t))).toEqual([
      'waiting: escalated',
      'waiting: reminder',
      'waiting: escalated',
    ]);
    expect(await titles('overridden-unratified.json')).toContain('waiting: ratification window ended');
    expect(await titles('controls-changed-denied.json')).toContain('recheck: controls changed: early re-check while waiting');
  });
});
