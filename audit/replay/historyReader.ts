// Reading a pack's proto3-JSON history into the History message the replay worker encodes and hands to the SDK core.
// The SDK's reader (historyFromJSON: protobufjs's generic proto3-JSON reader) spent ≈ 2 ms of a verification thread's
// ≈ 22 ms per pack, most of it decoding base64 payloads and checking every string's UTF-16 in plain JavaScript. This
// reader builds exactly the same message for the histories Temporal writes — the same fields, values and key order,
// so the same bytes reach the core — with Node's native base64 and one regular-expression scan per string; anything
// outside what it is sure to read the same way goes to the SDK's reader instead, which then decides (and may refuse).
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import { Enum, Type, util, type Field, type MapField } from 'protobufjs';

type History = ReturnType<typeof historyFromJSON>;

/** Gives up on the fast path: the SDK's reader takes the whole history. */
class NotFast extends Error {}
const notFast = (): never => {
  throw new NotFast();
};

// Nesting the fast path follows (a history's deepest message is a failure's cause chain); deeper goes to the SDK.
const MAX_DEPTH = 24;
const LONG_TYPES = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const UNSIGNED_LONG = new Set(['uint64', 'fixed64']);
const INT32_RANGE: Record<string, [number, number]> = {
  int32: [-0x80000000, 0x7fffffff],
  sint32: [-0x80000000, 0x7fffffff],
  sfixed32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
  fixed32: [0, 0xffffffff],
};
// A surrogate anywhere: the SDK's reader checks that each is paired; this reader leaves such strings to it.
const SURROGATE = /[\uD800-\uDFFF]/;
const INTEGER_TEXT = /^(?:0|-?[1-9][0-9]*)$/;
// The same patterns and checks as protobufjs's proto3-JSON reader (ext/protojson.js), whose results must match.
const TIMESTAMP =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d{1,9}))?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const DURATION = /^(-)?([0-9]+)(?:\.([0-9]{1,9}))?s$/;

type Reader = (value: unknown, depth: number) => unknown;
interface FieldPlan {
  name: string;
  read: Reader;
  /** A value equal to the field's implicit default is left out, as the SDK's reader leaves it out. */
  omitDefault: ((value: unknown) => boolean) | null;
  oneof: string | null;
}
interface TypePlan {
  /** Every JSON key the SDK's reader accepts for a field: its name, JSON name and proto name. */
  byKey: Map<string, FieldPlan>;
}

// The same reflected type the SDK's reader uses (proto-utils looks it up on the same patched root).
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): Type }).lookupType(
  'temporal.api.history.v1.History',
);
const Long = util.Long as unknown as { fromString(text: string, unsigned: boolean): unknown } | undefined;
historyType.root.resolveAll();
const plans = new Map<Type, TypePlan>();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fracToNanos(frac: string): number {
  return Number.parseInt(frac.padEnd(9, '0').slice(0, 9), 10);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function readTimestamp(value: unknown): Record<string, number> {
  if (typeof value !== 'string') return notFast();
  const match = TIMESTAMP.exec(value);
  if (!match) return notFast();
  if (Number(match[3]) > daysInMonth(Number(match[1]), Number(match[2]))) return notFast();
  const millis = new Date(value).getTime();
  if (Number.isNaN(millis)) return notFast();
  const seconds = Math.floor(millis / 1000);
  const nanos = match[7] ? fracToNanos(match[7]) : 0;
  if (seconds < -62135596800 || seconds > 253402300799) return notFast();
  const message: Record<string, number> = {};
  if (seconds !== 0) message.seconds = seconds;
  if (nanos !== 0) message.nanos = nanos;
  return message;
}

function readDuration(value: unknown): Record<string, number> {
  if (typeof value !== 'string') return notFast();
  const match = DURATION.exec(value);
  if (!match) return notFast();
  const sign = match[1] ? -1 : 1;
  const seconds = Number.parseInt(match[2]!, 10) * sign || 0;
  const nanos = match[3] ? fracToNanos(match[3]) * sign || 0 : 0;
  if (seconds > 315576000000 || seconds < -315576000000) return notFast();
  const message: Record<string, number> = {};
  if (seconds !== 0) message.seconds = seconds;
  if (nanos !== 0) message.nanos = nanos;
  return message;
}

function scalarReader(type: string): Reader {
  if (type === 'string') return (v) => (typeof v === 'string' && !SURROGATE.test(v) ? v : notFast());
  if (type === 'bool') return (v) => (typeof v === 'boolean' ? v : notFast());
  if (type === 'bytes')
    return (v) => {
      if (typeof v !== 'string') return notFast();
      // Node decodes natively but skips what is not base64; text that encodes back to itself is standard, padded
      // base64, which both readers decode to the same bytes.
      const bytes = Buffer.from(v, 'base64');
      return bytes.toString('base64') === v ? bytes : notFast();
    };
  if (type === 'double') return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : notFast());
  const range = INT32_RANGE[type];
  if (range) return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= range[0] && v <= range[1] ? v + 0 : notFast());
  if (LONG_TYPES.has(type)) {
    const unsigned = UNSIGNED_LONG.has(type);
    // As the SDK's reader makes them (a Long where protobufjs has one), from the decimal text protobufjs writes.
    return (v) =>
      typeof v === 'string' && INTEGER_TEXT.test(v) && Number.isSafeInteger(Number(v)) && !(unsigned && v.startsWith('-'))
        ? Long
          ? Long.fromString(v, unsigned)
          : Number.parseInt(v, 10)
        : notFast();
  }
  // float and anything else: rare in a history, left to the SDK's reader.
  return notFast;
}

function enumReader(enm: Enum): Reader {
  const values = enm.values;
  // Names only, as Temporal writes them. A number is left to the SDK's reader: for the fields its legacy-name fix-up
  // looks at, a number makes it throw (see sdkFixUpHolds), and elsewhere it is rare.
  return (v) => (typeof v === 'string' && Object.prototype.hasOwnProperty.call(values, v) ? values[v] : notFast());
}

function singularReader(field: Field): Reader {
  const resolved = field.resolvedType;
  if (resolved instanceof Type) {
    if (resolved.fullName === '.google.protobuf.Timestamp') return readTimestamp;
    if (resolved.fullName === '.google.protobuf.Duration') return readDuration;
    // Any other well-known type (Any, Struct, Value, wrappers, field masks…) has a JSON form of its own.
    if (resolved.fullName.startsWith('.google.protobuf.')) return notFast;
    return (v, depth) => readMessage(resolved, v, depth + 1);
  }
  if (resolved instanceof Enum) return resolved.fullName === '.google.protobuf.NullValue' ? notFast : enumReader(resolved);
  return scalarReader(field.type);
}

function defaultTest(field: Field): FieldPlan['omitDefault'] {
  if (field.hasPresence || field.repeated || field.map || field.resolvedType instanceof Type) return null;
  if (field.resolvedType instanceof Enum) return (v) => v === 0;
  switch (field.type) {
    case 'bool':
      return (v) => v === false;
    case 'string':
      return (v) => v === '';
    case 'bytes':
      return (v) => (v as Buffer).length === 0;
    default:
      return (v) => (typeof v === 'number' ? v === 0 : (v as { isZero(): boolean }).isZero());
  }
}

function fieldReader(field: Field): Reader {
  const one = singularReader(field);
  if (field.map) {
    if ((field as unknown as MapField).keyType !== 'string') return notFast;
    return (v, depth) => {
      if (!isObject(v)) return notFast();
      const map: Record<string, unknown> = Object.create(null);
      for (const key of Object.keys(v)) {
        if (SURROGATE.test(key)) return notFast();
        map[key] = one(v[key], depth);
      }
      return map;
    };
  }
  if (field.repeated)
    return (v, depth) => {
      if (!Array.isArray(v)) return notFast();
      // A null element (refused by the SDK's reader) is refused by every element reader here too.
      return v.map((element) => one(element, depth));
    };
  return one;
}

function planOf(type: Type): TypePlan {
  let plan = plans.get(type);
  if (plan) return plan;
  const byKey = new Map<string, FieldPlan>();
  for (const field of type.fieldsArray) {
    field.resolve();
    const fieldPlan: FieldPlan = {
      name: field.name,
      read: fieldReader(field),
      omitDefault: defaultTest(field),
      oneof: field.partOf?.name ?? null,
    };
    const protoName = (field as Field & { protoName?: string }).protoName;
    for (const key of [field.name, (field as Field & { jsonName?: string }).jsonName, protoName])
      if (key !== undefined) byKey.set(key, fieldPlan);
  }
  plan = { byKey };
  plans.set(type, plan);
  return plan;
}

function readMessage(type: Type, value: unknown, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH || !isObject(value)) return notFast();
  const { byKey } = planOf(type);
  const out: Record<string, unknown> = {};
  let seen: Set<FieldPlan> | undefined;
  let oneofs: Set<string> | undefined;
  for (const key of Object.keys(value)) {
    const field = byKey.get(key);
    // An unknown member is ignored by the SDK's reader too (it reads with ignoreUnknownFields).
    if (field === undefined) continue;
    // The same field under two of its names, or two members of one oneof: the SDK's reader refuses those.
    seen ??= new Set();
    if (seen.has(field)) return notFast();
    seen.add(field);
    const raw = value[key];
    if (raw === null) continue;
    const read = field.read(raw, depth);
    if (field.oneof !== null) {
      oneofs ??= new Set();
      if (oneofs.has(field.oneof)) return notFast();
      oneofs.add(field.oneof);
    }
    if (field.omitDefault === null || !field.omitDefault(read)) out[field.name] = read;
  }
  return out;
}

// The SDK's reader first rewrites legacy enum names in an event (`fixHistoryEvent` in @temporalio/common's
// proto-utils): the event's type, and in its attributes (the first key ending in "EventAttributes") the task queue's
// kind, parent close policy, ID reuse policy, initiator, retry state and a child failure's retry state. A name already
// in the current form is left as it is; anything else there that is not a string makes it throw.
const FIXED_UP_IN_ATTRIBUTES = ['parentClosePolicy', 'workflowIdReusePolicy', 'initiator', 'retryState'];
const fixUpHolds = (value: unknown) => !value || typeof value === 'string';

/** Whether the SDK's fix-up of `event` leaves it as it is, or rewrites only names this reader then refuses. */
function sdkFixUpHolds(event: unknown): boolean {
  if (!isObject(event) || !fixUpHolds(event.eventType)) return false;
  const key = Object.keys(event).find((k) => k.endsWith('EventAttributes'));
  const attributes = key === undefined ? undefined : event[key];
  if (attributes === null || attributes === undefined) return false;
  // Not an object: the fix-up spreads it into one and rewrites nothing; this reader refuses it under a known field and
  // ignores it under an unknown one, as the SDK's reader does.
  if (!isObject(attributes)) return true;
  if (!FIXED_UP_IN_ATTRIBUTES.every((name) => fixUpHolds(attributes[name]))) return false;
  const { taskQueue, childWorkflowExecutionFailureInfo: child } = attributes;
  if (taskQueue && isObject(taskQueue) && !fixUpHolds(taskQueue.kind)) return false;
  if (child && isObject(child) && !fixUpHolds(child.retryState)) return false;
  return true;
}

/**
 * The fast path alone: the History message for `json`, or `undefined` when anything in it is outside what this reader
 * reads exactly as the SDK's reader does (legacy enum names, URL-safe base64, surrogates, numbers written as text…).
 * Exported for the tests that hold it to the SDK's reader.
 */
export function fastHistoryFromJSON(json: unknown): History | undefined {
  if (!isObject(json) || !Array.isArray(json.events) || !json.events.every(sdkFixUpHolds)) return undefined;
  try {
    // The SDK's reader keeps only `events` of the top level (the one field a History has).
    return historyType.create(readMessage(historyType, { events: json.events }, 0)) as History;
  } catch (err) {
    if (err instanceof NotFast) return undefined;
    throw err;
  }
}

/**
 * A proto3-JSON history (as `ecp audit export` and `temporal workflow show --output json` write it) as the History
 * message the SDK's replay worker takes: the same message `historyFromJSON` gives, read faster for the histories
 * Temporal writes (see the file comment), by the SDK's reader for anything else. Throws, as the SDK's reader does, for
 * a history that is not one.
 */
export function readHistoryJSON(json: unknown): History {
  return fastHistoryFromJSON(json) ?? historyFromJSON(json);
}
