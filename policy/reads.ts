/**
 * What a set of policies can read of a request, so the sliced evaluation can send Cedar only that: converting the
 * context and the principal's attributes into Cedar values is a large part of each call, and agent parameters can be
 * large. The analysis walks each policy's JSON form (EST) and over-approximates:
 * - a context key is read when some policy has `context.<key>` or `context has <key>`; any other use of `context`
 *   (`context == {…}`, passing it whole) reads every key; a key only ever used as `context.<key>.<k>` (or
 *   `context.<key> has <k>`) reads only those `<k>` of a record;
 * - an attribute is read when any `.<attr>` or `has <attr>` in any policy names it, whatever it is applied to — Cedar
 *   cannot enumerate a record's or an entity's attributes nor compute an attribute name, so an attribute no policy
 *   names cannot influence a decision, a reason or an error message. When every access to an attribute is
 *   `.<attr>.contains(<literal>)` (the usual `principal.scopes.contains("x")`), only the set elements equal to one of
 *   those literals can matter.
 * - the principal or resource entity can be observed (attributes, tags, existence) only through a condition naming
 *   the variable or through an entity literal; the scope's `==`, `in` and `is` give the same result whether an entity
 *   without parents is sent or not, so an entity no condition can reach is not sent.
 * Literal values are walked like expressions, which can only add reads. Dropping a key is decision-preserving only
 * when converting the whole request cannot fail (see `convertsCleanly`): otherwise a bad value in a dropped key would
 * turn an engine error (deny) into a decision.
 */
import type * as cedar from './cedarEngine';

/** Per top-level context key read: the whole value, or only these keys of it (when it is a record). */
export type ContextReads = 'all' | ReadonlyMap<string, 'all' | ReadonlySet<string>>;
type Literal = string | number | boolean;
/** Per attribute name read: the whole value, or only its set elements equal to these literals. */
export type AttrReads = 'all' | ReadonlyMap<string, 'all' | ReadonlySet<Literal>>;

export interface PolicyReads {
  context: ContextReads;
  /** Every attribute name accessed, on anything, or `all` when an access does not name one. */
  attrs: AttrReads;
  /** Whether the conditions can reach the principal / the resource entity. */
  principal: boolean;
  resource: boolean;
}

export const READS_ALL: PolicyReads = { context: 'all', attrs: 'all', principal: true, resource: true };

type Access = { left: unknown; attr: unknown };
/** `{".": {left, attr}}` (`e.attr`, `e["attr"]`) or `{"has": {left, attr}}`, split into its parts. */
function accessParts(key: string, child: unknown): Access | null {
  return (key === '.' || key === 'has') && !!child && typeof child === 'object' && 'left' in child ? (child as Access) : null;
}
const isVar = (node: unknown, name: string) => !!node && typeof node === 'object' && (node as { Var?: unknown }).Var === name;
/** The key of `context.<key>` (a `.` node only), or null. */
function contextKeyOf(node: unknown): string | null {
  const dot = node && typeof node === 'object' ? (node as Record<string, unknown>)['.'] : undefined;
  const access = accessParts('.', dot);
  return access && isVar(access.left, 'context') && typeof access.attr === 'string' ? access.attr : null;
}

/** The reads of one policy, from its JSON form. */
export function readsOfPolicy(json: cedar.PolicyJson): PolicyReads {
  const context = new Map<string, 'all' | Set<string>>();
  const attrs = new Map<string, 'all' | Set<Literal>>();
  /** Access nodes that are the receiver of `.contains(<literal>)`. */
  const literalOnly = new WeakSet<object>();
  let contextAll = false;
  let attrsAll = false;
  let principal = false;
  let resource = false;
  const nested = (key: string, attr: string) => {
    const known = context.get(key);
    if (known === 'all') return;
    if (known) known.add(attr);
    else context.set(key, new Set([attr]));
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (isVar(record, 'context')) contextAll = true;
    if (isVar(record, 'principal')) principal = true;
    if (isVar(record, 'resource')) resource = true;
    // An entity literal may name either entity.
    if ('__entity' in record) principal = resource = true;
    const contains = record.contains as { left?: unknown; right?: unknown } | undefined;
    const receiver =
      contains && typeof contains === 'object' && contains.left && typeof contains.left === 'object'
        ? accessParts('.', (contains.left as Record<string, unknown>)['.'])
        : null;
    const literal = contains?.right && typeof contains.right === 'object' ? (contains.right as { Value?: unknown }).Value : undefined;
    if (receiver && typeof receiver.attr === 'string' && ['string', 'number', 'boolean'].includes(typeof literal)) {
      const known = attrs.get(receiver.attr);
      if (known !== 'all') attrs.set(receiver.attr, new Set([...(known ?? []), literal as Literal]));
      literalOnly.add(receiver);
    }
    for (const [key, child] of Object.entries(record)) {
      const access = accessParts(key, child);
      if (access) {
        if (typeof access.attr !== 'string') attrsAll = true;
        else if (!literalOnly.has(access)) attrs.set(access.attr, 'all');
        if (isVar(access.left, 'context')) {
          if (typeof access.attr === 'string') context.set(access.attr, 'all');
          else contextAll = true;
          continue; // the access node holds no other expression
        }
        const outer = contextKeyOf(access.left);
        if (outer !== null && typeof access.attr === 'string') {
          attrs.set(outer, 'all');
          nested(outer, access.attr);
          continue;
        }
      }
      visit(child);
    }
  };
  visit(json.conditions);
  return { context: contextAll ? 'all' : context, attrs: attrsAll ? 'all' : attrs, principal, resource };
}

function unionParts<T>(parts: Array<'all' | ReadonlyMap<string, 'all' | ReadonlySet<T>>>): 'all' | Map<string, 'all' | Set<T>> {
  const out = new Map<string, 'all' | Set<T>>();
  for (const part of parts) {
    if (part === 'all') return 'all';
    for (const [key, read] of part) {
      const known = out.get(key);
      if (known !== 'all') out.set(key, read === 'all' ? 'all' : new Set([...(known ?? []), ...read]));
    }
  }
  return out;
}

/** The union of several policies' reads. */
export function unionReads(reads: PolicyReads[]): PolicyReads {
  return {
    context: unionParts(reads.map((r) => r.context)),
    attrs: unionParts(reads.map((r) => r.attrs)),
    principal: reads.some((r) => r.principal),
    resource: reads.some((r) => r.resource),
  };
}

const MAX_DEPTH = 32;
/** A lone surrogate (with the `u` flag a valid pair is one code point): serde_json refuses its escape. */
const LONE_SURROGATE = /\p{Surrogate}/u;
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

/**
 * True when Cedar's JSON conversion of `value` certainly succeeds: strings (well-formed UTF-16), booleans, safe
 * integers, arrays and plain objects of these, not too deep, no key reserved by Cedar's JSON format. Anything else
 * (null, fractions, huge numbers, lone surrogates, …) may fail, and then the request is sent whole.
 */
export function convertsCleanly(value: unknown, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  switch (typeof value) {
    case 'string':
      return wellFormed(value);
    case 'boolean':
      return true;
    case 'number':
      return Number.isSafeInteger(value);
    case 'object': {
      if (value === null) return false;
      if (Array.isArray(value)) return value.every((v) => convertsCleanly(v, depth + 1));
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
      for (const [k, v] of Object.entries(value)) {
        if (!wellFormed(k) || k === '__entity' || k === '__extn' || k === '__expr' || !convertsCleanly(v, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;

/** The attributes of an entity that `reads` can see; sets read only by `contains(<literal>)` keep only those elements. */
export function pickAttrs(attrs: Record<string, unknown>, reads: AttrReads): Record<string, unknown> {
  if (reads === 'all') return attrs;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const keep = reads.get(k);
    if (keep)
      out[k] = keep === 'all' || !Array.isArray(v) ? v : v.filter((e) => (e !== null && typeof e === 'object') || keep.has(e as Literal));
  }
  return out;
}

/** The part of `context` that `reads` can see. */
export function pickContext(context: Record<string, unknown>, reads: ContextReads): Record<string, unknown> {
  if (reads === 'all') return context;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) {
    const keep = reads.get(k);
    if (keep) out[k] = keep === 'all' || !isRecord(v) ? v : Object.fromEntries(Object.entries(v).filter(([key]) => keep.has(key)));
  }
  return out;
}
