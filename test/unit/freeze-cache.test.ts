/**
 * The worker's freeze-list cache (client/controls.ts `FreezeCache`): never serves a list read more than `ttlMs` ago,
 * keeps it fresh in the background while in use, and fails closed once a list it cannot read again is too old. The
 * reads are counted through the cache's injectable reader; the controls workflow itself is read in
 * test/workflows/killSwitch.test.ts.
 */
import type { Client } from '@temporalio/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FREEZE_KEEP_FRESH_MS, FreezeCache } from '../../client/controls';
import type { ControlsState } from '../../common';

const client = {} as Client;
const TTL = 1_000;

/**
 * A reader answering list number n (in `log`) on its n-th read, after `delayMs`; throws while `failing` is set.
 * `finishedAt[n]`: when read n answered (the time the cache counts a list's age from).
 */
function reader(delayMs = 20) {
  let reads = 0;
  const control = { failing: false };
  const finishedAt: number[] = [];
  const read = vi.fn(async (): Promise<ControlsState> => {
    const n = ++reads;
    await new Promise((r) => setTimeout(r, delayMs));
    if (control.failing) throw new Error('controls workflow unreachable');
    finishedAt[n] = Date.now();
    return { freezes: [], log: [{ seq: n }] } as unknown as ControlsState;
  });
  return { read, control, finishedAt };
}
const listNumber = (state: ControlsState) => (state.log[0] as unknown as { seq: number }).seq;

/** `cache.get` with the clock moved on by `ms` meanwhile (the reader's delay): the list number it answers. */
async function getAfter(ms: number, ttlMs = TTL): Promise<number> {
  const got = cache.get(client, ttlMs);
  await vi.advanceTimersByTimeAsync(ms);
  return listNumber(await got);
}

let cache: FreezeCache;
beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => {
  cache?.stop();
  vi.useRealTimers();
});

describe('FreezeCache', () => {
  it('reads once, then serves from memory within the TTL', async () => {
    const { read } = reader();
    cache = new FreezeCache(read);
    expect(await getAfter(20)).toBe(1);
    expect(listNumber(await cache.get(client, TTL))).toBe(1);
    expect(read).toHaveBeenCalledTimes(1);
  });

  it('keeps the list fresh in the background while in use: a get after the TTL does not wait for a read', async () => {
    const { read } = reader(20);
    cache = new FreezeCache(read);
    await getAfter(20);
    // 1.5 TTLs later, with no get in between: background reads (every TTL − 250 ms) kept the list younger than the TTL.
    await vi.advanceTimersByTimeAsync(1_500);
    const reads = read.mock.calls.length;
    expect(reads).toBeGreaterThanOrEqual(3);
    let settled = false;
    const later = cache.get(client, TTL).then((s) => ((settled = true), s));
    await Promise.resolve();
    await Promise.resolve();
    expect(settled).toBe(true); // answered from memory, no read awaited
    expect(listNumber(await later)).toBe(reads);
  });

  it('never serves a list read more than the TTL ago, whatever the spacing of the gets', async () => {
    const { read, finishedAt } = reader(20);
    cache = new FreezeCache(read);
    const ages: number[] = [];
    for (const gap of [137, 990, 10, 1_400, 480, 2_500, 3, 700, 1_001, 250]) {
      await vi.advanceTimersByTimeAsync(gap);
      const asked = Date.now();
      const n = await getAfter(25);
      ages.push(asked - finishedAt[n]!);
    }
    expect(Math.max(...ages)).toBeLessThan(TTL);
    // Read in the background while in use: at most one read per TTL − 250 ms (plus the first and those gets waited for).
    expect(read.mock.calls.length).toBeLessThanOrEqual(Math.ceil(Date.now() / (TTL / 2)) + 1);
  });

  it('stops reading in the background once unused, and starts again on the next get', async () => {
    const { read } = reader(5);
    cache = new FreezeCache(read);
    await getAfter(5);
    await vi.advanceTimersByTimeAsync(FREEZE_KEEP_FRESH_MS + 2_000);
    const reads = read.mock.calls.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(read.mock.calls.length).toBe(reads);
    await getAfter(5);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(read.mock.calls.length).toBeGreaterThan(reads + 1);
  });

  it('fails closed: a list it cannot read again is served only until the TTL, then every caller gets the error', async () => {
    const { read, control } = reader(5);
    cache = new FreezeCache(read);
    expect(await getAfter(5)).toBe(1);
    control.failing = true;
    // The background read at 750 ms fails: the list read at 5 ms stays, still younger than the TTL.
    await vi.advanceTimersByTimeAsync(800);
    expect(read).toHaveBeenCalledTimes(2);
    expect(listNumber(await cache.get(client, TTL))).toBe(1);
    await vi.advanceTimersByTimeAsync(300); // now older than the TTL
    const late = cache.get(client, TTL);
    const settledLate = expect(late).rejects.toThrow('controls workflow unreachable');
    await vi.advanceTimersByTimeAsync(5);
    await settledLate;
    control.failing = false;
    expect(await getAfter(5)).toBeGreaterThan(1);
  });

  it('with a TTL of 0 reads on every get and never in the background', async () => {
    const { read } = reader(1);
    cache = new FreezeCache(read);
    for (let i = 0; i < 3; i++) await getAfter(1, 0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(read).toHaveBeenCalledTimes(3);
  });
});
