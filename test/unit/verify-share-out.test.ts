import { describe, expect, it } from 'vitest';
import { CHUNKS_IN_FLIGHT, chunkSize, MAX_CHUNK, shareOut, type ChunkRunner } from '../../audit/pack/shareOut';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A runner taking `msPerItem` per item, answering `item * 10`; it records the chunks it ran. */
function runner(msPerItem: number, opts: { failOn?: number; dieAfter?: number; shortAnswer?: boolean } = {}) {
  const chunks: number[][] = [];
  let ran = 0;
  const r: ChunkRunner<number> & { chunks: number[][]; dead: boolean } = {
    chunks,
    dead: false,
    async run(indexes) {
      chunks.push(indexes);
      await sleep(msPerItem * indexes.length);
      ran += indexes.length;
      if (opts.dieAfter !== undefined && ran >= opts.dieAfter) {
        r.dead = true;
        throw new Error('thread exited');
      }
      if (opts.failOn !== undefined && indexes.includes(opts.failOn)) throw new Error('verification threw');
      const answer = indexes.map((i) => i * 10);
      return opts.shortAnswer ? answer.slice(1) : answer;
    },
  };
  return r;
}

const fallbackRecorder = () => {
  const ran: number[][] = [];
  return {
    ran,
    fallback: async (indexes: number[]) => {
      ran.push(indexes);
      return indexes.map((i) => i * 10);
    },
  };
};

describe('a batch shared among verification threads (audit/pack/shareOut.ts)', () => {
  it('gives every item exactly one result, in order, each item run once', async () => {
    const a = runner(1);
    const b = runner(1);
    const { ran, fallback } = fallbackRecorder();
    const results = await shareOut(57, [a, b], fallback);
    expect(results).toEqual(Array.from({ length: 57 }, (_, i) => i * 10));
    expect(ran).toEqual([]);
    expect([...a.chunks, ...b.chunks].flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 57 }, (_, i) => i));
  });

  it('hands a slower runner fewer items', async () => {
    const fast = runner(1);
    const slow = runner(4);
    await shareOut(120, [fast, slow], fallbackRecorder().fallback);
    const fastItems = fast.chunks.flat().length;
    const slowItems = slow.chunks.flat().length;
    // A fixed split would give each 60; sharing as they free up gives the slow one about a fifth.
    expect(fastItems).toBeGreaterThan(2 * slowItems);
  });

  it('shrinks chunks as the batch drains, down to single items', () => {
    expect(chunkSize(200, 4)).toBe(MAX_CHUNK);
    expect(chunkSize(24, 4)).toBe(3);
    expect(chunkSize(7, 4)).toBe(1);
    expect(chunkSize(1, 4)).toBe(1);
  });

  it('keeps at most CHUNKS_IN_FLIGHT chunks on a runner at once', async () => {
    let inFlight = 0;
    let most = 0;
    const counting: ChunkRunner<number> = {
      dead: false,
      async run(indexes) {
        most = Math.max(most, ++inFlight);
        await sleep(2);
        inFlight--;
        return indexes.map((i) => i * 10);
      },
    };
    await shareOut(40, [counting], fallbackRecorder().fallback);
    expect(most).toBe(CHUNKS_IN_FLIGHT);
  });

  it('runs a failed chunk again in the fallback, and the runner goes on with the rest', async () => {
    const flaky = runner(1, { failOn: 5 });
    const { ran, fallback } = fallbackRecorder();
    const results = await shareOut(30, [flaky], fallback);
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => i * 10));
    expect(ran).toHaveLength(1);
    expect(ran[0]).toContain(5);
    expect(flaky.chunks.flat()).toContain(29);
  });

  it('treats an answer with the wrong number of results as a failure, not as results', async () => {
    const short = runner(1, { shortAnswer: true });
    const { ran, fallback } = fallbackRecorder();
    const results = await shareOut(10, [short], fallback);
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => i * 10));
    expect(ran.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it('gives a dead runner no more chunks: the others take its share, and with none left the fallback does', async () => {
    const dying = runner(1, { dieAfter: 3 });
    const healthy = runner(1);
    const { ran, fallback } = fallbackRecorder();
    const results = await shareOut(60, [dying, healthy], fallback);
    expect(results).toEqual(Array.from({ length: 60 }, (_, i) => i * 10));
    // Only what the dying runner held when it died is redone here; the healthy runner took everything after.
    expect(ran.flat().length).toBeLessThanOrEqual(CHUNKS_IN_FLIGHT * MAX_CHUNK);
    expect(healthy.chunks.flat()).toContain(59);

    const alone = runner(1, { dieAfter: 1 });
    const lone = fallbackRecorder();
    expect(await shareOut(20, [alone], lone.fallback)).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
    expect(lone.ran.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
