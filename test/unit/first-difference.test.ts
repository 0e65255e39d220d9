import { describe, expect, it } from 'vitest';
import { firstDifference } from '../../audit/pack/firstDifference';

describe('firstDifference (what a failed replay check names)', () => {
  it('is null for equal values, whatever the key order', () => {
    expect(firstDifference({ a: 1, b: [1, { c: 'x' }] }, { b: [1, { c: 'x' }], a: 1 })).toBeNull();
  });

  it('names the path of the first differing value, with both sides', () => {
    const pack = { status: 'SUCCEEDED', timeline: [{ at: '2026-12-02T01:00:00.000Z' }, { at: '2026-12-02T01:00:01.000Z' }] };
    const replay = { status: 'SUCCEEDED', timeline: [{ at: '2026-12-02T01:00:00.000Z' }, { at: '2026-12-02T01:00:02.000Z' }] };
    expect(firstDifference(pack, replay)).toBe(
      'timeline[1].at: the pack has "2026-12-02T01:00:01.000Z", the replay "2026-12-02T01:00:02.000Z"',
    );
  });

  it('names a missing field, a missing entry and a type change', () => {
    expect(firstDifference({ a: 1, b: 2 }, { a: 1 })).toBe('b: the pack has 2, the replay nothing');
    expect(firstDifference({ list: [1, 2] }, { list: [1] })).toBe('list: 2 entries in the pack, 1 in the replay');
    expect(firstDifference({ x: { y: 1 } }, { x: [1] })).toBe('x: the pack has {"y":1}, the replay [1]');
    expect(firstDifference(1, 2)).toBe('the value: the pack has 1, the replay 2');
  });

  it('shortens long values', () => {
    const long = 'x'.repeat(200);
    expect(firstDifference({ a: long }, { a: 'y' })).toBe(`a: the pack has ${JSON.stringify(long).slice(0, 77)}…, the replay "y"`);
  });
});
