/**
 * Saved histories of the governance paths (issue 13, docs/governance.md) replay against the current workflow code.
 * Each carries the `ecp-governance` patch marker; the histories recorded before it (histories/, -v0.1, -v0.2) replay
 * without it in replay.test.ts. Re-record with `npx tsx test/replay/record-governance-histories.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { GOVERNANCE_PATCH } from '../../common';
import { parseHistoryJson } from '../../audit/pack/build';
import { loadedConverter } from '../../audit/payloads';
import { buildTimeline } from '../../audit/timeline';
import { prebundleWorkflows } from '../../workflows/bundle';
import { finalRecord } from '../helpers/savedRecords';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'histories-governance');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
  .sort();
const workflowIds = JSON.parse(readFileSync(join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
const load = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as { events: Array<Record<string, unknown>> };

let workflowBundle: Awaited<ReturnType<typeof prebundleWorkflows>>;
beforeAll(async () => {
  workflowBundle = await prebundleWorkflows();
});

describe('saved governance histories replay against the current workflow code', () => {
  it('covers each governance path, with the outcome it had', () => {
    const outcome = (f: string) => {
      const r = finalRecord(load(f) as never)!;
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
  });

  /** Patch markers in a history: the patch ids their payloads name. */
  const patchIds = (events: Array<Record<string, unknown>>) =>
    events.flatMap((e) => {
      const marker = e.markerRecordedEventAttributes as
        { markerName: string; details: { 'patch-data': { payloads: Array<{ data: string }> } } } | undefined;
      if (marker?.markerName !== 'core_patch') return [];
      return [(JSON.parse(Buffer.from(marker.details['patch-data'].payloads[0]!.data, 'base64').toString('utf8')) as { id: string }).id];
    });

  it.each(files)('%s carries the ecp-governance marker; histories recorded before it carry none', (file) => {
    expect(patchIds(load(file).events).filter((id) => id === GOVERNANCE_PATCH)).toHaveLength(1);
    const before = join(dir, '..', 'histories-v0.3');
    for (const old of readdirSync(before).filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')) {
      const events = (JSON.parse(readFileSync(join(before, old), 'utf8')) as { events: Array<Record<string, unknown>> }).events;
      expect(patchIds(events)).not.toContain(GOVERNANCE_PATCH);
    }
  });

  it.each(files)('%s replays cleanly', async (file) => {
    await expect(Worker.runReplayHistory({ workflowBundle }, load(file) as never, workflowIds[file])).resolves.toBeUndefined();
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
