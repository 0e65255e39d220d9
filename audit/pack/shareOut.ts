// How a batch is shared among verification threads: in chunks handed out as threads free up, so a thread that runs
// slower (costlier packs, less CPU, more of V8's compiling) takes fewer and no core waits for another at the end.

/** One thread as the scheduler sees it: it runs a chunk (item indexes) and answers a result per index, in order. */
export interface ChunkRunner<T> {
  run(indexes: number[]): Promise<T[]>;
  /** A runner that died takes no further chunk. */
  readonly dead: boolean;
}

/** Chunks each runner holds at once: the next is already queued in the thread while it works on the current one. */
export const CHUNKS_IN_FLIGHT = 2;
/** Upper bound of a chunk (items): bounds what a slow thread can be left holding when the others run out. */
export const MAX_CHUNK = 8;

/**
 * The next chunk's size for `remaining` items over `lanes` (runners × chunks in flight): a share of what is left that
 * shrinks as the batch drains (guided self-scheduling), so the last chunks are single items and the runners finish
 * within about one item of each other.
 */
export function chunkSize(remaining: number, lanes: number): number {
  return Math.max(1, Math.min(MAX_CHUNK, Math.floor(remaining / (2 * lanes))));
}

/**
 * Runs items `0 … total − 1` on `runners`, a chunk at a time, each runner holding up to `CHUNKS_IN_FLIGHT` chunks,
 * and returns the results in the items' order. A chunk whose runner fails (rejects, or answers with a result count
 * that is not the chunk's) is run again by `fallback` once the runners are done; a runner that died takes no more
 * chunks and the others take its share. Every item gets exactly one result, or the call rejects with `fallback`'s error.
 */
export async function shareOut<T>(total: number, runners: ChunkRunner<T>[], fallback: (indexes: number[]) => Promise<T[]>): Promise<T[]> {
  const results = new Array<T>(total);
  const failed: number[][] = [];
  let next = 0;
  const lanes = Math.max(1, runners.length * CHUNKS_IN_FLIGHT);
  const lane = async (runner: ChunkRunner<T>): Promise<void> => {
    while (next < total && !runner.dead) {
      const size = chunkSize(total - next, lanes);
      const chunk = Array.from({ length: Math.min(size, total - next) }, (_, k) => next + k);
      next += chunk.length;
      let answer: T[] | undefined;
      try {
        answer = await runner.run(chunk);
      } catch {
        answer = undefined;
      }
      if (answer?.length !== chunk.length) failed.push(chunk);
      else for (const [k, index] of chunk.entries()) results[index] = answer[k]!;
    }
  };
  await Promise.all(runners.flatMap((runner) => Array.from({ length: CHUNKS_IN_FLIGHT }, () => lane(runner))));
  // Every runner died with items left: the calling thread takes them.
  if (next < total) failed.push(Array.from({ length: total - next }, (_, k) => next + k));
  for (const chunk of failed) {
    const answer = await fallback(chunk);
    for (const [k, index] of chunk.entries()) results[index] = answer[k]!;
  }
  return results;
}
