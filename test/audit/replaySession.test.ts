/**
 * The kept replay worker of a verification thread (`keepReplayWorker`): every batch replays on one replay worker and
 * its reusable V8 context, each history still gets exactly its own result, and a worker that fails part-way fails
 * only the history it was on — the rest, and later batches, go to a new worker. Needs no server.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { keepReplayWorker, releaseReplayWorker, replayForResults, withoutWorkflowStackTraces } from '../../audit/replay/replay';
import type { HistoryEvent } from '../../audit/history';
import { finalRecord } from '../helpers/savedRecords';
import { editPinnedContext } from './helpers';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'replay', 'histories');
const ids = JSON.parse(readFileSync(join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
type History = { events: Array<Record<string, unknown>> };
const load = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as History;
const item = (file: string) => ({ history: load(file), workflowId: ids[file]! });
const recordOf = (file: string) => finalRecord(load(file))!;

afterAll(async () => {
  await releaseReplayWorker();
});

describe('the kept replay worker', () => {
  it('replays every batch on one worker, each history to its own record, a tampered one failing alone', async () => {
    // As a verification thread does: no stack-trace hook, and the worker kept between jobs.
    await withoutWorkflowStackTraces();
    keepReplayWorker();
    const workers = vi.spyOn(Worker, 'runReplayHistories');
    try {
      const first = await replayForResults([item('succeeded-quorum.json'), item('denied.json')]);
      expect(first).toEqual([
        { ok: true, result: recordOf('succeeded-quorum.json') },
        { ok: true, result: recordOf('denied.json') },
      ]);

      // The second batch on the same worker and context: the quorum history with its pinned context edited must not
      // replay to the record the untouched history gave in the first batch (nothing carried over from it).
      const tampered = load('succeeded-quorum.json');
      editPinnedContext(tampered.events as unknown as HistoryEvent[]);
      const second = await replayForResults([
        item('succeeded-auto.json'),
        { history: tampered, workflowId: ids['succeeded-quorum.json']! },
        item('succeeded-quorum.json'),
      ]);
      expect(second[0]).toEqual({ ok: true, result: recordOf('succeeded-auto.json') });
      expect(second[1]).not.toEqual({ ok: true, result: recordOf('succeeded-quorum.json') });
      expect(second[2]).toEqual({ ok: true, result: recordOf('succeeded-quorum.json') });
      expect(workers).toHaveBeenCalledTimes(1);
    } finally {
      workers.mockRestore();
    }
  });

  it('fails only the history a failing worker was on; the rest and later batches go to a new worker', async () => {
    await withoutWorkflowStackTraces();
    keepReplayWorker();
    await releaseReplayWorker(); // start from no worker, whichever test ran before
    const workers = vi.spyOn(Worker, 'runReplayHistories');
    try {
      // An empty history passes the JSON conversion but makes the SDK's replay worker itself throw and shut down.
      const out = await replayForResults([
        item('succeeded-auto.json'),
        { history: { events: [] }, workflowId: 'att-empty' },
        item('denied.json'),
      ]);
      expect(out.map((o) => o.ok)).toEqual([true, false, true]);
      expect(out[0]).toEqual({ ok: true, result: recordOf('succeeded-auto.json') });
      expect(out[1]).toMatchObject({ ok: false, error: expect.any(String) });
      expect(out[2]).toEqual({ ok: true, result: recordOf('denied.json') });
      expect(workers).toHaveBeenCalledTimes(2);

      expect(await replayForResults([item('succeeded-quorum.json')])).toEqual([{ ok: true, result: recordOf('succeeded-quorum.json') }]);
      expect(workers).toHaveBeenCalledTimes(2);
    } finally {
      workers.mockRestore();
    }
  });
});
