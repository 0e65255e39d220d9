import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  approvalsStillValid,
  checkDecision,
  decisionSigningBytes,
  findSigningKey,
  groupsStillAwaited,
  keyFingerprint,
  requirementProgress,
  screenDecision,
  type AcceptedDecision,
  type ApprovalRequirement,
  type DecisionCheckInput,
  type PinnedDirectory,
  type SignedDecision,
  type SigningKeyFinder,
} from '../../common';
import { publicKeyHex, signDecision } from '../../client/keys';

const keyPair = () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: publicKeyHex(privateKey) };
};
const alice = keyPair();
const bob = keyPair();
const carol = keyPair();
const HASH = `sha256:${'a'.repeat(64)}`;

const directory: PinnedDirectory = {
  version: 'v1',
  agent: { id: 'bot', owner: 'carol', scopes: [] },
  humans: {
    alice: { groups: ['finance'], publicKeys: [alice.publicKey] },
    bob: { groups: ['sre'], publicKeys: [bob.publicKey] },
    carol: { groups: ['finance'], publicKeys: [carol.publicKey] },
  },
};
const finance: ApprovalRequirement = { policyId: 'p', groups: ['finance'], quorum: 1, deadlineSeconds: 60, onExpiry: 'expire' };

const decision = (
  human: string,
  key = alice.privateKey,
  over: Partial<{ attemptId: string; proposalHash: string; verdict: 'approve' | 'reject' }> = {},
) =>
  signDecision(
    { v: 1, attemptId: 'att-1', proposalHash: HASH, verdict: 'approve', human, reason: '', decidedAt: '2026-01-01T00:00:00.000Z', ...over },
    key,
  );

const withoutKey = ({ key: _key, ...rest }: SignedDecision): SignedDecision => rest;

const input = (over: Partial<DecisionCheckInput>): DecisionCheckInput => ({
  decision: decision('alice'),
  attemptId: 'att-1',
  proposalHash: HASH,
  status: 'AWAITING_DECISION',
  accepting: true,
  deadlineMs: 2_000,
  nowMs: 1_000,
  directory,
  requirements: [finance],
  accepted: [],
  ...over,
});

describe('Ed25519 decision signatures', () => {
  it('verify with node:crypto signatures against the registered key, in pure JS', () => {
    const signed = decision('alice');
    expect(findSigningKey(signed, [bob.publicKey, alice.publicKey])).toBe(alice.publicKey);
    expect(findSigningKey(signed, [bob.publicKey])).toBeNull();
  });

  it('do not verify after any change to the statement', () => {
    const signed = decision('alice');
    expect(findSigningKey({ ...signed, statement: { ...signed.statement, verdict: 'reject' } }, [alice.publicKey])).toBeNull();
    expect(
      findSigningKey({ ...signed, statement: { ...signed.statement, decidedAt: '2026-01-01T00:00:01.000Z' } }, [alice.publicKey]),
    ).toBeNull();
  });

  it('sign a domain-separated canonical statement', () => {
    const bytes = new TextDecoder().decode(decisionSigningBytes(decision('alice').statement));
    expect(bytes).toBe(
      `ecp.decision.v1:{"attemptId":"att-1","decidedAt":"2026-01-01T00:00:00.000Z","human":"alice","proposalHash":"${HASH}","reason":"","v":1,"verdict":"approve"}`,
    );
  });

  it('never throw on garbage keys or signatures', () => {
    expect(findSigningKey({ ...decision('alice'), signature: 'f'.repeat(128) }, ['00'.repeat(32), 'zz'])).toBeNull();
  });
});

describe('decision rules', () => {
  it('accepts a signed approval from a human of the required group before the deadline', () => {
    expect(checkDecision(input({}))).toEqual({ ok: true, keyFingerprint: keyFingerprint(alice.publicKey) });
  });

  it.each<[string, Partial<DecisionCheckInput>, string]>([
    ['after the deadline', { nowMs: 2_001 }, 'deadline_passed'],
    ['once expired', { status: 'EXPIRED' }, 'deadline_passed'],
    ['when not awaiting', { status: 'EXECUTING' }, 'not_awaiting'],
    ['once the wait is over (requirements met, re-check running)', { accepting: false }, 'not_awaiting'],
    ['for another attempt', { decision: decision('alice', alice.privateKey, { attemptId: 'att-2' }) }, 'wrong_attempt'],
    [
      'for another proposal',
      { decision: decision('alice', alice.privateKey, { proposalHash: `sha256:${'b'.repeat(64)}` }) },
      'wrong_proposal_hash',
    ],
    ['from the agent', { decision: decision('bot', alice.privateKey) }, 'agent_cannot_decide'],
    ['from an unknown human', { decision: decision('mallory', alice.privateKey) }, 'unknown_human'],
    ['naming a key not registered to the human', { decision: decision('alice', bob.privateKey) }, 'unknown_key'],
    [
      'signed with another key than the one it names',
      { decision: { ...decision('alice', bob.privateKey), key: keyFingerprint(alice.publicKey) } },
      'bad_signature',
    ],
    ['naming no key, where the attempt requires one', { decision: withoutKey(decision('alice')), requireKey: true }, 'malformed'],
    [
      'naming no key, signed with an unregistered key (older attempts)',
      { decision: withoutKey(decision('alice', bob.privateKey)) },
      'bad_signature',
    ],
    ["from the agent's owner, even in the group", { decision: decision('carol', carol.privateKey) }, 'self_approval'],
    ['from outside the required groups', { decision: decision('bob', bob.privateKey) }, 'not_in_required_group'],
    ['twice from the same human', { accepted: [{ human: 'alice', verdict: 'approve' } as AcceptedDecision] }, 'duplicate_approver'],
  ])('refuses a decision %s', (_label, over, code) => {
    expect(checkDecision(input(over))).toMatchObject({ ok: false, code });
  });

  it('accepts a decision naming no key on attempts started before keys were required', () => {
    expect(checkDecision(input({ decision: withoutKey(decision('alice')) }))).toMatchObject({ ok: true });
  });

  it('checks no signature for anything the cheap checks refuse, and at most the named key otherwise', () => {
    const tried: number[] = [];
    const finder: SigningKeyFinder = (d, keys) => (tried.push(keys.length), findSigningKey(d, keys));
    const mallory = keyPair();
    const cheap: Array<Partial<DecisionCheckInput>> = [
      { status: 'EXPIRED' },
      { accepting: false },
      { decision: decision('alice', alice.privateKey, { attemptId: 'att-2' }) },
      { decision: decision('mallory', mallory.privateKey) },
      { decision: decision('alice', mallory.privateKey) },
      { decision: withoutKey(decision('alice')), requireKey: true },
    ];
    for (const over of cheap) expect(checkDecision(input(over), finder).ok).toBe(false);
    expect(tried).toEqual([]);
    const twoKeys = {
      ...directory,
      humans: { ...directory.humans, alice: { groups: ['finance'], publicKeys: [bob.publicKey, alice.publicKey] } },
    };
    expect(checkDecision(input({ directory: twoKeys }), finder)).toMatchObject({ ok: true });
    expect(tried).toEqual([1]);
    expect(screenDecision(input({ directory: twoKeys }))).toEqual({ ok: true, candidateKeys: [alice.publicKey] });
  });

  it('never mistakes an inherited property for a registered human', () => {
    expect(checkDecision(input({ decision: decision('constructor') }))).toMatchObject({ ok: false, code: 'unknown_human' });
  });

  it('counts distinct approvers per requirement and lists groups still awaited', () => {
    const sre: ApprovalRequirement = { ...finance, policyId: 'q', groups: ['sre'], quorum: 2 };
    const accepted = [
      { human: 'alice', verdict: 'approve' },
      { human: 'bob', verdict: 'approve' },
    ] as AcceptedDecision[];
    const progress = requirementProgress([finance, sre], accepted, directory);
    expect(progress.map((p) => [p.policyId, p.approvedBy, p.met])).toEqual([
      ['p', ['alice'], true],
      ['q', ['bob'], false],
    ]);
    expect(groupsStillAwaited(progress)).toEqual(['sre']);
  });

  it('drops approvals whose key or human is gone from a fresher directory', () => {
    const accepted = [{ human: 'alice', verdict: 'approve', keyFingerprint: keyFingerprint(alice.publicKey) }] as AcceptedDecision[];
    expect(approvalsStillValid(accepted, directory)).toHaveLength(1);
    const rotated = { ...directory, humans: { ...directory.humans, alice: { groups: ['finance'], publicKeys: [bob.publicKey] } } };
    expect(approvalsStillValid(accepted, rotated)).toHaveLength(0);
    const { alice: _gone, ...rest } = directory.humans;
    expect(approvalsStillValid(accepted, { ...directory, humans: rest })).toHaveLength(0);
  });
});
