// Verification threads: a batch of evidence packs split across worker threads, one per core, each running the
// in-process verification (every check, replay included) on its share. Replaying a history is CPU in the SDK's
// sandbox on one JS thread, so one process verifies on one core; threads use them all.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EcpError } from '../../common/errors';
import { replayBundles, type ReplayBundles } from '../replay/replay';
import type { EvidencePack } from './schema';
import { shareOut, type ChunkRunner } from './shareOut';
import type { TrustRoot } from './trust';

/** Below this many packs a batch verifies in the calling thread (starting threads would cost more than they save). */
export const VERIFY_THREAD_MIN_BATCH = 8;

/** The options a thread receives: plain data (a data converter cannot cross threads, so none is ever sent). */
export interface ThreadVerifyOptions {
  replay?: boolean;
  trust: TrustRoot | null;
}

/** A job for a thread, and its answer. */
export interface ThreadJob {
  id: number;
  packs: EvidencePack[];
  options: ThreadVerifyOptions;
}
export type ThreadAnswer = { id: number; results: unknown[] } | { id: number; error: string } | { ready: true };

/** `ECP_VERIFY_THREADS`: a whole number ≥ 0, or unset. Fails closed on anything else rather than guessing. */
function threadsFromEnv(): number | undefined {
  const raw = process.env.ECP_VERIFY_THREADS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new EcpError(
      'invalid_input',
      `ECP_VERIFY_THREADS must be a whole number ≥ 0 (0 verifies in the calling thread), got "${raw}"`,
      'ECP_VERIFY_THREADS',
    );
  return n;
}

/**
 * How many threads verify a batch of `packs`: `options.threads`, else `ECP_VERIFY_THREADS`, else one per core; 1
 * (the calling thread) for a small batch or when a data converter is needed. At most one thread per
 * `VERIFY_THREAD_MIN_BATCH / 2` packs.
 */
export function verifyThreadCount(packs: number, options: { threads?: number; dataConverter?: unknown }): number {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 0))
    throw new EcpError('invalid_input', `threads must be a whole number ≥ 0, got ${options.threads}`, 'threads');
  const wanted = options.threads ?? threadsFromEnv() ?? availableParallelism();
  if (options.dataConverter || packs < VERIFY_THREAD_MIN_BATCH) return 1;
  return Math.max(1, Math.min(wanted, Math.ceil(packs / (VERIFY_THREAD_MIN_BATCH / 2))));
}

type Settle = { resolve: (results: unknown[]) => void; reject: (err: Error) => void };

/** One verification thread, kept for the process's life (unreferenced while idle, so it never keeps a CLI alive). */
class VerifyThread {
  private readonly pending = new Map<number, Settle>();
  private seq = 0;
  dead = false;
  /** Settles once the thread has loaded its modules and can take a job. */
  readonly ready: Promise<void>;

  constructor(private readonly worker: Worker) {
    worker.unref();
    let ready!: () => void;
    this.ready = new Promise<void>((resolve) => (ready = resolve));
    worker.on('message', (answer: ThreadAnswer) => {
      if ('ready' in answer) return ready();
      const settle = this.pending.get(answer.id);
      if (!settle) return;
      this.pending.delete(answer.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in answer) settle.reject(new Error(answer.error));
      else settle.resolve(answer.results);
    });
    const die = (err: Error) => {
      this.dead = true;
      ready();
      for (const settle of this.pending.values()) settle.reject(err);
      this.pending.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the verification thread exited (code ${code})`)));
  }

  verify(packs: EvidencePack[], options: ThreadVerifyOptions): Promise<unknown[]> {
    if (this.dead) return Promise.reject(new Error('the verification thread is gone'));
    const id = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // a job in flight keeps the process alive until it answers
      this.worker.postMessage({ id, packs, options } satisfies ThreadJob);
    });
  }
}

/** The `--cpu-prof*` flags among `argv`, with the value of a `--cpu-prof-dir <dir>`-style flag given apart. */
function profilerFlags(argv: string[]): string[] {
  return argv.flatMap((arg, i) => {
    if (arg.startsWith('--cpu-prof')) return [arg];
    const prev = argv[i - 1];
    return prev && /^--cpu-prof-(dir|name|interval)$/.test(prev) ? [arg] : [];
  });
}

let threads: VerifyThread[] = [];
let bundles: Promise<ReplayBundles> | undefined;

/** The pool grown to `count` live threads; they reuse this process's bundles (webpack runs once, here). */
async function pool(count: number): Promise<VerifyThread[]> {
  bundles ??= replayBundles();
  const data = await bundles;
  threads = threads.filter((t) => !t.dead);
  while (threads.length < count) {
    // A plain .mjs entry that registers tsx itself: the thread gets no loader flags from whoever started this process,
    // only its --cpu-prof flags (so `node --cpu-prof` profiles the threads that do the work, each to its own file).
    const execArgv = profilerFlags(process.execArgv);
    const worker = new Worker(new URL('./verifyThread.mjs', import.meta.url), { workerData: data, execArgv });
    threads.push(new VerifyThread(worker));
  }
  return threads.slice(0, count);
}

/**
 * Starts `count` verification threads (default one per core) and waits until they can take a job: loading a thread's
 * modules costs about a second of CPU, paid once per process. For a long-lived verifier, or before timing.
 */
export async function warmUpVerifyThreads(count = verifyThreadCount(Number.MAX_SAFE_INTEGER, {})): Promise<void> {
  const started = await pool(count);
  await Promise.all(started.map((t) => t.ready));
}

/**
 * Verifies `packs` on `count` threads and returns the results in the packs' order. The packs go out in chunks as
 * threads free up (see shareOut.ts), so a thread that runs slower takes fewer and both cores stay busy to the end. A
 * chunk whose thread fails (it crashed, its verification threw, or it answered the wrong number of results) is
 * verified again by `fallback` in the calling thread: every pack still gets every check, or the error. Idempotent:
 * verification is pure, so running a chunk twice gives the same results.
 */
export async function verifyPacksInThreads<T>(
  packs: EvidencePack[],
  options: ThreadVerifyOptions,
  count: number,
  fallback: (packs: EvidencePack[]) => Promise<T[]>,
): Promise<T[]> {
  const workers = await pool(count);
  const packsAt = (indexes: number[]) => indexes.map((i) => packs[i]!);
  const runners: ChunkRunner<T>[] = workers.map((worker) => ({
    run: (indexes) => worker.verify(packsAt(indexes), options) as Promise<T[]>,
    get dead() {
      return worker.dead;
    },
  }));
  return shareOut(packs.length, runners, (indexes) => fallback(packsAt(indexes)));
}
