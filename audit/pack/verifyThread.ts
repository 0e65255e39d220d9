// A verification thread (started by verifyThreads.ts through verifyThread.mjs): verifies each job's packs with the
// in-process path — every check, replay included — using the parent's bundles, and answers with the results.
import { parentPort, workerData } from 'node:worker_threads';
import { adoptReplayBundles, keepReplayWorker, withoutWorkflowStackTraces, type ReplayBundles } from '../replay/replay';
import { verifyPacksInProcess } from './verify';
import type { ThreadAnswer, ThreadJob } from './verifyThreads';

if (!parentPort) throw new Error('verifyThread.ts runs only as a worker thread (see verifyThreads.ts)');
const port = parentPort;
adoptReplayBundles(workerData as ReplayBundles);
// This thread only verifies: the SDK's stack-trace tracking serves no query here and was ≈ 40 % of the replay CPU.
await withoutWorkflowStackTraces();
// ...and keeps one replay worker for every job, so its V8 context is set up and warmed up once, not once per batch.
keepReplayWorker();

port.postMessage({ ready: true } satisfies ThreadAnswer);
port.on('message', (job: ThreadJob) => {
  verifyPacksInProcess(job.packs, { replay: job.options.replay, trust: job.options.trust }).then(
    (results) => port.postMessage({ id: job.id, results } satisfies ThreadAnswer),
    (err: Error) => port.postMessage({ id: job.id, error: `${err.name}: ${err.message}` } satisfies ThreadAnswer),
  );
});
