import type { KeyObject } from 'node:crypto';
import type { RefusalCode, SignedDecision, Verdict } from '../../../common';
import { forgeDecision, strangerKey } from '../../helpers/attempts';

/** Every illegitimate decision the security model names, and the refusal each must get. */
export const ATTACKS = {
  forged: { what: 'signed with a key not registered to the named approver', expect: ['bad_signature'] },
  self: { what: 'the proposing agent decides on its own attempt', expect: ['agent_cannot_decide'] },
  owner: { what: "the agent's owner decides (with the owner's real key)", expect: ['self_approval'] },
  replayed: { what: 'a genuine approval of another attempt, replayed', expect: ['wrong_attempt'] },
  staleHash: { what: 'genuine signer, this attempt, another proposal hash', expect: ['wrong_proposal_hash'] },
  wrongGroup: { what: 'a real human outside the required groups', expect: ['not_in_required_group'] },
  duplicateQuorum: { what: 'the same approver again toward a quorum of 2', expect: ['duplicate_approver'] },
  unknownHuman: { what: 'a human not in the directory', expect: ['unknown_human'] },
  tampered: { what: 'a genuine signature with one hex digit changed', expect: ['bad_signature'] },
  // Same approver again: if it lands in the workflow task that counted their first decision, the wait has not closed
  // yet and it is refused as a duplicate — still refused, with the more specific reason.
  late: {
    what: 'a genuine approver again, after the decision closed or the deadline passed',
    expect: ['not_awaiting', 'deadline_passed', 'attempt_closed', 'duplicate_approver'],
  },
} as const satisfies Record<string, { what: string; expect: ReadonlyArray<RefusalCode | 'attempt_closed'> }>;
export type AttackKind = keyof typeof ATTACKS;
export type Channel = 'signal' | 'update';

export type Shape = 'refund' | 'deploy' | 'expiring';
export interface Target {
  attemptId: string;
  proposalHash: string;
  shape: Shape;
}

/** One decision to send: an attack (with the refusal it must get) or a genuine one (which must count). */
export interface Step {
  kind: AttackKind | 'genuine';
  channel: Channel;
  decision: SignedDecision;
  verdict?: Verdict;
}

/** Small deterministic PRNG (mulberry32), so a seed reproduces the whole mix. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!, chance: (p: number) => next() < p };
}

/**
 * The steps for one attempt, in sending order: attacks, then the genuine decision(s) (a deploy's duplicate-quorum
 * attack sits between its two approvals), then possibly a late one. `other` is a neighbouring attempt whose genuine
 * approval is replayed and whose hash is used as the stale one. An expiring attempt only gets decisions after its
 * deadline, all late.
 */
export function planFor(a: Target, other: Target, key: (human: string) => KeyObject, r: ReturnType<typeof rng>): Step[] {
  const channel = (): Channel => (r.chance(0.5) ? 'signal' : 'update');
  const sign = (
    human: string,
    k: KeyObject,
    fields: Partial<{ attemptId: string; proposalHash: string; verdict: Verdict; reason: string }> = {},
  ) => forgeDecision(k, { attemptId: a.attemptId, proposalHash: a.proposalHash, human, ...fields });
  const approver = a.shape === 'deploy' ? 'bob' : 'alice';
  if (a.shape === 'expiring') {
    return Array.from({ length: 1 + Math.floor(r.next() * 3) }, () => ({
      kind: 'late' as const,
      channel: channel(),
      decision: sign('alice', key('alice')),
    }));
  }
  const build: Record<Exclude<AttackKind, 'duplicateQuorum' | 'late'>, () => SignedDecision> = {
    forged: () => sign(approver, strangerKey()),
    self: () => sign(a.shape === 'deploy' ? 'deploy-bot' : 'refund-bot', strangerKey()),
    owner: () => sign(a.shape === 'deploy' ? 'dave' : 'carol', key(a.shape === 'deploy' ? 'dave' : 'carol')),
    replayed: () =>
      forgeDecision(key(other.shape === 'deploy' ? 'bob' : 'alice'), {
        attemptId: other.attemptId,
        proposalHash: other.proposalHash,
        human: other.shape === 'deploy' ? 'bob' : 'alice',
      }),
    staleHash: () => sign(approver, key(approver), { proposalHash: other.proposalHash }),
    wrongGroup: () => (a.shape === 'deploy' ? sign('alice', key('alice')) : sign('bob', key('bob'))),
    unknownHuman: () => sign(r.pick(['mallory', 'eve', 'trent']), strangerKey()),
    tampered: () => {
      const genuine = sign(approver, key(approver));
      const at = Math.floor(r.next() * 128);
      const digit = ((parseInt(genuine.signature[at]!, 16) + 1 + Math.floor(r.next() * 15)) % 16).toString(16);
      return { ...genuine, signature: genuine.signature.slice(0, at) + digit + genuine.signature.slice(at + 1) };
    },
  };
  const kinds = Object.keys(build) as Array<keyof typeof build>;
  const steps: Step[] = Array.from({ length: 1 + Math.floor(r.next() * 4) }, () => {
    const kind = r.pick(kinds);
    return { kind, channel: channel(), decision: build[kind]() };
  });
  const reject = r.chance(0.15);
  if (a.shape === 'deploy') {
    steps.push({ kind: 'genuine', channel: channel(), decision: sign('bob', key('bob')), verdict: 'approve' });
    if (r.chance(0.6))
      steps.push({ kind: 'duplicateQuorum', channel: channel(), decision: sign('bob', key('bob'), { reason: 'approving again' }) });
    const verdict: Verdict = reject ? 'reject' : 'approve';
    steps.push({ kind: 'genuine', channel: channel(), decision: sign('erin', key('erin'), { verdict }), verdict });
  } else {
    const verdict: Verdict = reject ? 'reject' : 'approve';
    steps.push({ kind: 'genuine', channel: channel(), decision: sign('alice', key('alice'), { verdict }), verdict });
  }
  if (r.chance(0.3))
    steps.push({
      kind: 'late',
      channel: channel(),
      decision: sign(a.shape === 'deploy' ? 'erin' : 'alice', key(a.shape === 'deploy' ? 'erin' : 'alice'), { reason: 'late' }),
    });
  return steps;
}
