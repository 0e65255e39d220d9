import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastHistoryFromJSON, readHistoryJSON } from '../../../audit/replay/historyReader';

// The replay worker encodes the History message and hands the bytes to the SDK core: equal bytes, equal replay.
const History = (
  proto as unknown as { temporal: { api: { history: { v1: { History: { encodeDelimited(m: unknown): { finish(): Uint8Array } } } } } } }
).temporal.api.history.v1.History;
const bytesOf = (message: unknown) => Buffer.from(History.encodeDelimited(message).finish());

/** Every history saved for the replay suite (test/replay/histories*), by file. */
function savedHistories(): Array<{ file: string; json: Record<string, unknown> }> {
  const root = join(import.meta.dirname, '..', '..', 'replay');
  const out: Array<{ file: string; json: Record<string, unknown> }> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.json') && name !== 'workflow-ids.json')
        out.push({ file: path, json: JSON.parse(readFileSync(path, 'utf8')) });
    }
  };
  for (const name of readdirSync(root)) if (name.startsWith('histories')) walk(join(root, name));
  return out;
}

const saved = savedHistories();

/** What the SDK's reader makes of `json`: the encoded message, or the fact that it refuses. */
function sdkRead(json: unknown): Buffer | 'refused' {
  try {
    return bytesOf(historyFromJSON(json));
  } catch {
    return 'refused';
  }
}

type Path = Array<string | number>;
/** Every path to a value in `json` (the root excluded). */
function pathsOf(json: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(json)) json.forEach((v, i) => (out.push([...prefix, i]), pathsOf(v, [...prefix, i], out)));
  else if (json !== null && typeof json === 'object')
    for (const [k, v] of Object.entries(json)) {
      out.push([...prefix, k]);
      pathsOf(v, [...prefix, k], out);
    }
  return out;
}

// Values that sit on the edges of what either reader accepts.
const EDGE_VALUES: unknown[] = [
  null,
  0,
  -0,
  1,
  -1,
  1.5,
  2 ** 31,
  2 ** 32,
  -(2 ** 31) - 1,
  1e300,
  '',
  '0',
  '-0',
  '007',
  '1e3',
  '-5',
  '9007199254740993',
  '123',
  true,
  false,
  [],
  {},
  [null],
  'AAAA',
  'AAA',
  'AA==',
  'QR==',
  'Zm9v-_8',
  'Zm9v',
  'NaN',
  'Infinity',
  '2024-02-30T00:00:00Z',
  '2024-01-01T00:00:00.5Z',
  '2024-01-01T00:00:00+01:00',
  '2024-01-01T00:00:00.000000001Z',
  '0001-01-01T00:00:00Z',
  '1.5s',
  '-1.000000001s',
  '0s',
  '10',
  'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
  'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
  'WorkflowExecutionStarted',
  'EVENT_TYPEX',
  'TASK_QUEUE_KIND_NORMAL',
  'Normal',
  'RETRY_STATE_TIMEOUT',
  'Timeout',
  '\ud800',
  'x\udc00',
  '😀',
  { seconds: 1 },
  { retryState: 3 },
  { kind: 1 },
];

type Mutation = (json: unknown) => void;

/** The object holding the value at `path`, if an earlier edit left the path in place. */
function parentOf(root: unknown, path: Path): Record<string | number, unknown> | undefined {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>) : undefined;
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** One edit at one path: a value replaced, a key removed, renamed to its proto name, doubled, or a key added. */
const mutation = (paths: Path[]): fc.Arbitrary<Mutation> =>
  fc
    .tuple(fc.nat(paths.length - 1), fc.nat(EDGE_VALUES.length - 1), fc.constantFrom('set', 'delete', 'snake', 'double', 'add'))
    .map(([p, v, op]) => (json: unknown) => {
      const path = paths[p]!;
      const parent = parentOf(json, path);
      const key = path.at(-1)!;
      if (parent === undefined || !Object.hasOwn(parent, key)) return;
      const value = structuredClone(EDGE_VALUES[v]);
      if (op === 'set' || Array.isArray(parent)) parent[key] = value;
      else if (op === 'delete') delete parent[key];
      else if (op === 'snake') {
        const moved = parent[key];
        delete parent[key];
        parent[snake(String(key))] = moved;
      } else if (op === 'double') parent[snake(String(key)) === key ? `${key}X` : snake(String(key))] = structuredClone(parent[key]);
      else parent[`${String(key)}EventAttributes`] = value;
    });

describe('the fast history reader (audit/replay/historyReader.ts) against the SDK reader', () => {
  it('reads every saved history, to the bytes the SDK reader gives', () => {
    expect(saved.length).toBeGreaterThan(50);
    for (const { file, json } of saved) {
      const fast = fastHistoryFromJSON(json);
      expect(fast, file).toBeDefined();
      expect(bytesOf(fast).equals(bytesOf(historyFromJSON(json))), file).toBe(true);
    }
  });

  // Each edit sits on one rule of the SDK reader; the first group it refuses, the second it reads (after fix-ups or
  // by its general rules) — the fast reader must decline or agree byte for byte, never accept what it refuses.
  type Edit = (h: unknown) => void;
  type Node = Record<string | number, unknown>;
  const at = (h: unknown, path: Path): Node => path.reduce<Node>((node, key) => node[key] as Node, h as Node);
  const set =
    (path: Path, value: unknown): Edit =>
    (h) =>
      (at(h, path.slice(0, -1))[path.at(-1)!] = value);
  const remove =
    (path: Path): Edit =>
    (h) =>
      delete at(h, path.slice(0, -1))[path.at(-1)!];
  const both =
    (...edits: Edit[]): Edit =>
    (h) =>
      edits.forEach((edit) => edit(h));
  const STARTED: Path = ['events', 0, 'workflowExecutionStartedEventAttributes'];
  const PAYLOAD: Path = [...STARTED, 'input', 'payloads', 0];
  const refusedBySdk: Array<[string, Edit]> = [
    ['an event type given as a number', set(['events', 0, 'eventType'], 1)],
    ['null attributes', set(STARTED, null)],
    ['an event without attributes', remove(['events', 1, 'workflowTaskScheduledEventAttributes'])],
    ['a lone surrogate in a string', set([...STARTED, 'identity'], 'x\ud800')],
    ['two members of the attributes oneof', set(['events', 0, 'workflowTaskScheduledEventAttributes'], {})],
    ['one field under two names', (h) => set(['events', 0, 'event_id'], at(h, ['events', 0]).eventId)(h)],
    ['a retry state given as a number', set([...STARTED, 'retryState'], 3)],
    ['a task queue kind given as a number', set([...STARTED, 'taskQueue', 'kind'], 1)],
    ["a child failure's retry state given as a number", set([...STARTED, 'childWorkflowExecutionFailureInfo'], { retryState: 2 })],
    ['a null element in a repeated field', set([...STARTED, 'input', 'payloads', 1], null)],
    ['an invalid timestamp', set(['events', 0, 'eventTime'], '2024-02-30T00:00:00Z')],
    ['a timestamp out of range', set(['events', 0, 'eventTime'], '0000-12-31T00:00:00Z')],
    ['a number where a string goes', set([...STARTED, 'identity'], 5)],
    ['an int64 out of range', set(['events', 0, 'taskId'], '99999999999999999999')],
    ['a duration out of range', set([...STARTED, 'workflowTaskTimeout'], '315576000001s')],
  ];
  const readBySdk: Array<[string, Edit]> = [
    ['a legacy event type name', set(['events', 0, 'eventType'], 'WorkflowExecutionStarted')],
    ['a legacy task queue kind', set([...STARTED, 'taskQueue', 'kind'], 'Normal')],
    ['URL-safe, unpadded base64', set([...PAYLOAD, 'metadata', 'encoding'], 'anNvbi9wbGFpbg')],
    ['base64 with stray trailing bits', set([...PAYLOAD, 'metadata', 'x'], 'QR==')],
    [
      'proto (snake_case) field names',
      (h) => both(set(['events', 0, 'event_time'], at(h, ['events', 0]).eventTime), remove(['events', 0, 'eventTime']))(h),
    ],
    ['a timestamp with an offset and nanoseconds', set(['events', 0, 'eventTime'], '2024-01-01T01:00:00.000000001+01:00')],
    ['an int64 with leading zeros', set(['events', 0, 'taskId'], '007')],
    ['an int64 given as a number', set(['events', 0, 'taskId'], 7)],
    ['an int32 given as text', set([...STARTED, 'attempt'], '2')],
    ['an unknown enum name', set([...STARTED, 'taskQueue', 'kind'], 'TASK_QUEUE_KIND_FUTURE')],
    ['a string with a surrogate pair', set([...STARTED, 'identity'], '😀')],
    [
      'explicit defaults and nulls',
      both(set([...STARTED, 'attempt'], 0), set([...STARTED, 'identity'], ''), set([...STARTED, 'memo'], null)),
    ],
    ['an unknown field', set([...STARTED, 'fromTheFuture'], { x: 1 })],
  ];
  const base = saved.find((h) => h.file.endsWith('histories-v0.5/succeeded-auto.json'))!.json;
  const editedWith = (edit: Edit) => {
    const h = structuredClone(base);
    edit(h);
    return h;
  };
  it.each(refusedBySdk)('declines what the SDK reader refuses: %s', (_, edit) => {
    const edited = editedWith(edit);
    expect(sdkRead(edited)).toBe('refused');
    expect(fastHistoryFromJSON(edited)).toBeUndefined();
    expect(() => readHistoryJSON(edited)).toThrow();
  });
  it.each(readBySdk)('declines or agrees byte for byte where the SDK reader reads: %s', (_, edit) => {
    const edited = editedWith(edit);
    const sdk = sdkRead(edited);
    expect(sdk).not.toBe('refused');
    const fast = fastHistoryFromJSON(edited);
    if (fast !== undefined) expect(bytesOf(fast).equals(sdk as Buffer)).toBe(true);
    expect(bytesOf(readHistoryJSON(edited)).equals(sdk as Buffer)).toBe(true);
  });

  it('on edited histories either declines or gives the SDK reader’s exact bytes, and never accepts what it refuses', () => {
    let fastRead = 0;
    let declined = 0;
    for (const [i, { json }] of saved.filter((_, k) => k % 6 === 0).entries()) {
      const paths = pathsOf(json);
      fc.assert(
        fc.property(fc.array(mutation(paths), { minLength: 1, maxLength: 3 }), (edits) => {
          const edited = structuredClone(json);
          for (const edit of edits) edit(edited);
          const sdk = sdkRead(edited);
          const fast = fastHistoryFromJSON(edited);
          if (fast === undefined) declined++;
          else {
            fastRead++;
            expect(sdk).not.toBe('refused');
            expect(bytesOf(fast).equals(sdk as Buffer)).toBe(true);
          }
          // What verification calls: the SDK reader's outcome, whichever path answers.
          let combined: Buffer | 'refused';
          try {
            combined = bytesOf(readHistoryJSON(edited));
          } catch {
            combined = 'refused';
          }
          expect(combined === 'refused' ? combined : combined.equals(sdk as Buffer)).toBe(sdk === 'refused' ? 'refused' : true);
        }),
        { numRuns: Number(process.env.RUNS ?? 60), seed: 4100 + i },
      );
    }
    // Both branches ran: the property is not vacuous.
    expect(fastRead).toBeGreaterThan(100);
    expect(declined).toBeGreaterThan(100);
  }, 120_000);
});
