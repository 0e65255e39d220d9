import { createHash } from 'node:crypto';
import * as cedar from './cedarEngine';
import { READS_ALL, readsOfPolicy, unionReads, type PolicyReads } from './reads';

/**
 * Policy slicing: Cedar evaluates every policy of a set on every request, so the cost grows with the bundle. Most
 * policies are scoped to an action (`action == Action::"x"`, `action in [...]`) or a principal, and a policy whose
 * scope does not match a request can neither be satisfied nor fail (Cedar checks the scope before the conditions).
 * So evaluating a request against only the policies whose scope can match it gives the same decision, the same
 * reasons and the same errors as evaluating the whole set. Every test here is a superset test: when in doubt
 * (templates' slots, unknown shapes) a policy stays in the slice.
 *
 * Slices are preparsed in cedar-wasm's policy-set cache: one per action the bundle mentions (plus one for actions it
 * does not), built at load; and, lazily, per distinct principal refinement of an action slice, up to a bound.
 */

type Uid = { type: string; id: string };

export type ActionScope = { kind: 'all' } | { kind: 'some'; keys: string[] };
export type PrincipalScope =
  { kind: 'all' } | { kind: 'eq'; key: string } | { kind: 'in'; key: string } | { kind: 'is'; type: string; inKey: string | null };

export interface PolicyScope {
  action: ActionScope;
  principal: PrincipalScope;
}

/** What a request can be matched on: the principal and its ancestors (from the entities sent to Cedar), the action. */
export interface SliceRequest {
  principal: Uid;
  /** `type::id` keys of every entity the principal is (transitively) a member of. */
  principalAncestors: ReadonlySet<string>;
  action: Uid;
}

export interface SliceIndex {
  scopes: Record<string, PolicyScope>;
  /** Action key → ids of the policies that can match it (action-unscoped ones included), in bundle order. */
  byAction: Map<string, string[]>;
  /** Ids of the policies that match any action: the slice for an action no policy names. */
  anyAction: string[];
  /** Preparsed set id per action key (and `*` for `anyAction`). */
  actionSetIds: Map<string, string>;
  /** Preparsed principal refinements of action slices: set id per joined policy ids. */
  refinements: Map<string, string>;
  /** What each policy can read of a request (policy/reads.ts). */
  reads: Record<string, PolicyReads>;
  /** The union of `reads` per preparsed set id. */
  setReads: Map<string, PolicyReads>;
  /** Memo of slicePlan per request shape (action, principal, ancestors): computing it is most of the JS cost per call. */
  memo: Map<string, SlicePlan>;
  /** Action key → keys of the action groups the schema makes it a member of (transitively); absent: none. */
  actionGroups: Map<string, Set<string>>;
}

/** The preparsed set a request is evaluated against, and what its policies can read of the request. */
export interface SlicePlan {
  setId: string;
  reads: PolicyReads;
}

/** Beyond this many principal refinements, requests use their action slice (still exact, a little slower). */
export const MAX_REFINEMENTS = 1024;
/** Bound of the per-request-shape memo (one entry per action × agent seen); beyond it slices are recomputed per call. */
export const MAX_MEMO = 65_536;

export const uidKey = (uid: Uid): string => `${uid.type}::${uid.id}`;

function uidOf(value: unknown): Uid | null {
  if (!value || typeof value !== 'object') return null;
  const v = ('__entity' in value ? (value as { __entity: unknown }).__entity : value) as Partial<Uid>;
  return typeof v.type === 'string' && typeof v.id === 'string' ? { type: v.type, id: v.id } : null;
}

/** Action key → keys of the action groups it is a member of (transitively), from the schema's `memberOf`. */
function actionAncestors(schemaText: string): Map<string, Set<string>> {
  const parents = new Map<string, string[]>();
  const json = cedar.schemaToJson(schemaText);
  if (json.type === 'success') {
    for (const [ns, def] of Object.entries(json.json)) {
      const actionType = ns ? `${ns}::Action` : 'Action';
      for (const [id, action] of Object.entries(def.actions ?? {})) {
        parents.set(
          uidKey({ type: actionType, id }),
          (action.memberOf ?? []).map((p) => uidKey({ type: p.type ?? actionType, id: p.id })),
        );
      }
    }
  }
  const closure = new Map<string, Set<string>>();
  for (const key of parents.keys()) {
    const seen = new Set<string>();
    const stack = [...(parents.get(key) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(parents.get(next) ?? []));
    }
    closure.set(key, seen);
  }
  return closure;
}

/** The scope of one policy, read from cedar-wasm's policy JSON. Unknown shapes widen to "all". */
export function scopeOf(json: cedar.PolicyJson, ancestors: Map<string, Set<string>>): PolicyScope {
  let action: ActionScope = { kind: 'all' };
  const a = json.action;
  const targets =
    a.op === '=='
      ? ['entity' in a ? uidOf(a.entity) : null]
      : a.op === 'in'
        ? 'entities' in a
          ? a.entities.map(uidOf)
          : [uidOf(a.entity)]
        : null;
  if (targets && targets.every((t) => t !== null)) {
    // `action in G` matches G itself and every action the schema makes a member of G (a superset of what the
    // evaluation's entity data can make true); `==` matches exactly.
    const named = new Set(targets.map((t) => uidKey(t!)));
    const keys = new Set(named);
    if (a.op === 'in') {
      for (const [key, groups] of ancestors) if ([...groups].some((g) => named.has(g))) keys.add(key);
    }
    action = { kind: 'some', keys: [...keys] };
  }
  let principal: PrincipalScope = { kind: 'all' };
  const p = json.principal;
  if (p.op === '==' || p.op === 'in') {
    const uid = 'entity' in p ? uidOf(p.entity) : null;
    if (uid) principal = { kind: p.op === '==' ? 'eq' : 'in', key: uidKey(uid) };
  } else if (p.op === 'is') {
    const inUid = p.in && 'entity' in p.in ? uidOf(p.in.entity) : null;
    if (!p.in || inUid) principal = { kind: 'is', type: p.entity_type, inKey: inUid ? uidKey(inUid) : null };
  }
  return { action, principal };
}

export function principalAdmits(scope: PrincipalScope, request: SliceRequest): boolean {
  const key = uidKey(request.principal);
  const within = (k: string) => k === key || request.principalAncestors.has(k);
  switch (scope.kind) {
    case 'all':
      return true;
    case 'eq':
      return scope.key === key;
    case 'in':
      return within(scope.key);
    case 'is':
      return scope.type === request.principal.type && (scope.inKey === null || within(scope.inKey));
  }
}

const preparse = (setId: string, policies: Record<string, string>, ids: string[]): void => {
  const answer = cedar.preparsePolicySet(setId, { staticPolicies: Object.fromEntries(ids.map((id) => [id, policies[id]!])) });
  if (answer.type === 'failure')
    throw new Error(`could not preparse policy slice ${setId}: ${answer.errors.map((e) => e.message).join('; ')}`);
};

const indexes = new WeakMap<object, SliceIndex>();

/** The slice index of a bundle, built on first use (bundles are immutable; a reload is a new bundle). */
export function sliceIndexFor(bundle: { version: string; schemaText: string; policies: Record<string, string> }): SliceIndex {
  let index = indexes.get(bundle);
  if (!index) {
    index = buildSliceIndex(bundle.version, bundle.schemaText, bundle.policies);
    indexes.set(bundle, index);
  }
  return index;
}

/** Indexes a validated bundle's policies by scope and preparses one slice per action it mentions. */
export function buildSliceIndex(version: string, schemaText: string, policies: Record<string, string>): SliceIndex {
  const ancestors = actionAncestors(schemaText);
  const scopes: Record<string, PolicyScope> = {};
  const reads: Record<string, PolicyReads> = {};
  const anyAction: string[] = [];
  const actionKeys = new Set<string>();
  for (const [id, text] of Object.entries(policies)) {
    const json = cedar.policyToJson(text);
    // A validated bundle always converts; if not, keep the policy in every slice.
    const scope: PolicyScope =
      json.type === 'success' ? scopeOf(json.json, ancestors) : { action: { kind: 'all' }, principal: { kind: 'all' } };
    scopes[id] = scope;
    reads[id] = json.type === 'success' ? readsOfPolicy(json.json) : READS_ALL;
    if (scope.action.kind === 'all') anyAction.push(id);
    else scope.action.keys.forEach((k) => actionKeys.add(k));
  }
  const byAction = new Map<string, string[]>();
  const actionSetIds = new Map<string, string>();
  for (const key of actionKeys) {
    const ids = Object.keys(policies).filter((id) => {
      const a = scopes[id]!.action;
      return a.kind === 'all' || a.keys.includes(key);
    });
    byAction.set(key, ids);
    actionSetIds.set(key, `${version}/action/${key}`);
    preparse(`${version}/action/${key}`, policies, ids);
  }
  actionSetIds.set('*', `${version}/action/*`);
  preparse(`${version}/action/*`, policies, anyAction);
  return {
    scopes,
    byAction,
    anyAction,
    actionSetIds,
    refinements: new Map(),
    reads,
    setReads: new Map(),
    memo: new Map(),
    actionGroups: new Map([...ancestors].filter(([, groups]) => groups.size > 0)),
  };
}

/**
 * The preparsed set to evaluate `request` against — its action slice, narrowed to the policies whose principal scope
 * admits the request's principal (preparsed on first use, up to MAX_REFINEMENTS) — with the union of what that set's
 * policies can read. Memoised per request shape.
 */
export function slicePlan(index: SliceIndex, version: string, policies: Record<string, string>, request: SliceRequest): SlicePlan {
  // The slice depends only on these three; ancestors are sorted so equal sets share an entry.
  const memoKey = JSON.stringify([
    request.action.type,
    request.action.id,
    request.principal.type,
    request.principal.id,
    ...[...request.principalAncestors].sort(),
  ]);
  const memoised = index.memo.get(memoKey);
  if (memoised) return memoised;
  const { setId, ids } = computeSlice(index, version, policies, request);
  let reads = index.setReads.get(setId);
  if (!reads) index.setReads.set(setId, (reads = unionReads(ids.map((id) => index.reads[id]!))));
  const plan: SlicePlan = { setId, reads };
  if (index.memo.size < MAX_MEMO) index.memo.set(memoKey, plan);
  return plan;
}

function computeSlice(
  index: SliceIndex,
  version: string,
  policies: Record<string, string>,
  request: SliceRequest,
): { setId: string; ids: string[] } {
  const actionKey = uidKey(request.action);
  const actionIds = index.byAction.get(actionKey) ?? index.anyAction;
  const actionSetId = index.actionSetIds.get(index.byAction.has(actionKey) ? actionKey : '*')!;
  const ids = actionIds.filter((id) => principalAdmits(index.scopes[id]!.principal, request));
  if (ids.length === actionIds.length) return { setId: actionSetId, ids: actionIds };
  const joined = JSON.stringify(ids);
  const known = index.refinements.get(joined);
  if (known) return { setId: known, ids };
  if (index.refinements.size >= MAX_REFINEMENTS) return { setId: actionSetId, ids: actionIds };
  const setId = `${version}/slice/${createHash('sha256').update(joined).digest('hex').slice(0, 32)}`;
  preparse(setId, policies, ids);
  index.refinements.set(joined, setId);
  return { setId, ids };
}
