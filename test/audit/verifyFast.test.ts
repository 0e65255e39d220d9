/**
 * The fast paths of offline verification check exactly what the slow ones did: node:crypto digests equal `digestOf`,
 * node:crypto Ed25519 accepts and refuses what the plane's verifier does, a cached Cedar bundle is never used for a
 * policy part whose texts differ, and one replay worker replays a batch — repeats and broken histories included —
 * giving each history its own result, calling into the sandbox without a watchdog per call (needs no server).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { digestOf } from '../../common/canonical';
import type { DecisionStatement } from '../../common/decision';
import { findSigningKey } from '../../common/signature';
import { bundleFromPack, policyPartVersion } from '../../audit/pack/policy';
import type { PackPolicyBundle } from '../../audit/pack/schema';
import { canonicalDigest, fastDigestOf } from '../../audit/pack/verifyDigests';
import { findSigningKeyNode } from '../../audit/pack/verifySignature';
import { replayForResults } from '../../audit/replay/replay';
import { publicKeyHex, signDecision } from '../../client/keys';
import { packPolicyBundle } from '../../audit/bundleStore';
import { loadPolicyBundle } from '../../policy/bundle';
import { finalRecord } from '../helpers/savedRecords';

const here = dirname(fileURLToPath(import.meta.url));

describe('digests with node:crypto', () => {
  it('equal digestOf, text included, for nested and non-ASCII values', () => {
    const value = { z: [1, 2.5, 'é', { b: null, a: '🙂' }], a: { '\u00e9': true, e: 'x\ny' }, n: 1e21 };
    expect(fastDigestOf(value)).toBe(digestOf(value));
    expect(canonicalDigest(value).digest).toBe(digestOf(value));
    expect(canonicalDigest(value).text).toBe('{"a":{"e":"x\\ny","é":true},"n":1e+21,"z":[1,2.5,"é",{"a":"🙂","b":null}]}');
  });
});

describe('decision signatures with node:crypto', () => {
  const keyPair = () => generateKeyPairSync('ed25519');
  const statement: DecisionStatement = {
    v: 1,
    attemptId: 'att-0123456789abcdef0123456789abcdef',
    proposalHash: `sha256:${'ab'.repeat(32)}`,
    verdict: 'approve',
    human: 'bob',
    reason: 'looks right — ✓',
    decidedAt: '2026-11-22T01:02:03.000Z',
  };

  it('accept and refuse exactly what the plane verifier does', () => {
    const signer = keyPair();
    const other = keyPair();
    const keys = [publicKeyHex(other.privateKey), publicKeyHex(signer.privateKey)];
    const { signature } = signDecision(statement, signer.privateKey);
    const flipped = (signature[0] === '0' ? '1' : '0') + signature.slice(1);
    const cases: Array<[DecisionStatement, string, string[]]> = [
      [statement, signature, keys],
      [statement, signature, [publicKeyHex(other.privateKey)]],
      [{ ...statement, proposalHash: `sha256:${'cd'.repeat(32)}` }, signature, keys],
      [{ ...statement, attemptId: 'att-ffffffffffffffffffffffffffffffff' }, signature, keys],
      [{ ...statement, reason: 'looks right' }, signature, keys],
      [statement, flipped, keys],
      [statement, signature.slice(2), keys],
      [statement, 'zz'.repeat(64), keys],
      [statement, signature, ['not-a-key', 'ff'.repeat(32), '00'.repeat(31)]],
      [statement, signature, []],
    ];
    for (const [s, sig, publicKeys] of cases) {
      expect(findSigningKeyNode(s, sig, publicKeys)).toBe(findSigningKey({ statement: s, signature: sig }, publicKeys));
    }
    expect(findSigningKeyNode(statement, signature, keys)).toBe(keys[1]);
    // Cached key objects must not leak between keys: the same signature against the other key alone still fails.
    expect(findSigningKeyNode(statement, signature, [keys[0]!])).toBeNull();
  });
});

describe('the cached policy bundle', () => {
  const POLICIES = join(here, '..', '..', 'examples', 'demo', 'policies');
  const base = (): PackPolicyBundle => structuredClone(packPolicyBundle(loadPolicyBundle(POLICIES, { defaultDeadlineSeconds: 3600 })));
  const withVersion = (part: PackPolicyBundle): PackPolicyBundle => ({ ...part, version: policyPartVersion(part) });

  it('is reused for the same texts and never for different ones', () => {
    const part = base();
    const first = bundleFromPack(part);
    expect(bundleFromPack(base())).toBe(first);

    // One policy's text changed (a different quorum): a fresh bundle with the new requirement, not the cached one.
    const [id, text] = Object.entries(part.policies).find(([, t]) => /@quorum\("\d+"\)/.test(t))!;
    const quorum = Number(/@quorum\("(\d+)"\)/.exec(text)![1]);
    const edited = withVersion({
      ...part,
      policies: { ...part.policies, [id]: text.replace(/@quorum\("\d+"\)/, `@quorum("${quorum + 1}")`) },
    });
    const rebuilt = bundleFromPack(edited);
    expect(rebuilt).not.toBe(first);
    expect(rebuilt.version).toBe(edited.version);
    expect(rebuilt.requirements[id]!.quorum).toBe(quorum + 1);
    expect(first.requirements[id]!.quorum).toBe(quorum);
    // Edited texts still claiming the old version are not served the cached bundle either (the key is recomputed).
    expect(bundleFromPack({ ...edited, version: part.version }).requirements[id]!.quorum).toBe(quorum + 1);

    // Same texts, another default deadline: also not the cached bundle.
    expect(bundleFromPack({ ...part, defaultDeadlineSeconds: 60 })).not.toBe(first);
    // A text that no longer validates is refused, even right after its valid sibling was cached.
    expect(() => bundleFromPack(withVersion({ ...part, policies: { ...part.policies, [id]: `${text} permit(` } }))).toThrow();
  });
});

describe('batch replay on one replay worker', () => {
  const dir = join(here, '..', 'replay', 'histories');
  const ids = JSON.parse(readFileSync(join(dir, 'workflow-ids.json'), 'utf8')) as Record<string, string>;
  const load = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as { events: Array<Record<string, unknown>> };
  const recordOf = (history: ReturnType<typeof load>) => finalRecord(history)!;

  it('gives each history its own result, with repeats, a broken history and signature checks in the sandbox', async () => {
    const quorum = load('succeeded-quorum.json');
    const denied = load('denied.json');
    // The quorum history with its last decision's signal dropped: the code no longer reaches the same end.
    const truncated = { events: quorum.events.slice(0, Math.floor(quorum.events.length / 2)) };
    const items = [
      { history: quorum, workflowId: ids['succeeded-quorum.json']! },
      { history: denied, workflowId: ids['denied.json']! },
      { history: quorum, workflowId: ids['succeeded-quorum.json']! },
      { history: truncated, workflowId: ids['succeeded-quorum.json']! },
      { history: { events: 'nope' }, workflowId: 'att-x' },
      { history: quorum, workflowId: ids['succeeded-quorum.json']! },
    ];
    const out = await replayForResults(items);
    expect(out.map((o) => o.ok)).toEqual([true, true, true, false, false, true]);
    for (const i of [0, 2, 5]) expect(out[i]).toEqual({ ok: true, result: recordOf(quorum) });
    expect(out[1]).toEqual({ ok: true, result: recordOf(denied) });
    expect(recordOf(quorum).decisions.accepted.length).toBeGreaterThanOrEqual(2);
  });

  it('calls into the sandbox without a per-call watchdog, and still gets the same records', async () => {
    // Node's vm starts a watchdog thread for every call given a `timeout` (≈ 100 µs of CPU each, ≈ 20 calls per
    // history); the replay worker's never-firing 2^32−1 ms timeout was paying that on every call.
    const calls: Array<number | undefined> = [];
    const run = vm.Script.prototype.runInContext;
    const spy = vi.spyOn(vm.Script.prototype, 'runInContext').mockImplementation(function (this: vm.Script, context, options) {
      calls.push(options?.timeout);
      return run.call(this, context, options);
    });
    try {
      const quorum = load('succeeded-quorum.json');
      const auto = load('succeeded-auto.json');
      const out = await replayForResults([
        { history: quorum, workflowId: ids['succeeded-quorum.json']! },
        { history: auto, workflowId: ids['succeeded-auto.json']! },
      ]);
      expect(out).toEqual([
        { ok: true, result: recordOf(quorum) },
        { ok: true, result: recordOf(auto) },
      ]);
    } finally {
      spy.mockRestore();
    }
    expect(calls.length).toBeGreaterThan(10);
    expect(calls.filter((timeout) => timeout !== undefined)).toEqual([]);
  });
});
