import { describe, expect, it } from 'vitest';
import { proposalHash, type Advice, type AttemptContext, type Proposal } from '../../common';
import { AttemptState } from '../../workflows/attemptState';

const proposal: Proposal = {
  agent: 'refund-bot',
  actionType: 'payments.refund',
  resource: 'order-1',
  parameters: { amount: 1 },
  justification: 'because',
  claims: {},
  idempotencyKey: 'k1',
};

const context = (version: string): AttemptContext => ({
  capturedAt: '2026-01-01T00:00:00.000Z',
  facts: {},
  factsError: null,
  directory: { version: 'd1', agent: null, humans: {} },
  bundleVersion: 'b1',
  actionType: {
    name: 'payments.refund',
    version,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
    timeout: '30s',
  },
  problems: [],
});
const allow: Advice = {
  verdict: 'allow',
  requirements: [],
  policyIds: ['p1'],
  reasons: ['allowed by p1'],
  errors: [],
  bundleVersion: 'b1',
};
const deny: Advice = { ...allow, verdict: 'deny', reasons: ['forbidden by p2'] };

const evaluatedState = () => {
  const state = new AttemptState('att-1', proposal, proposalHash(proposal));
  state.gathered(context('v1'));
  state.evaluated(allow);
  return state;
};

describe('AttemptState is the only code that changes an attempt', () => {
  it('pins context and advice through its methods, and the record shows them', () => {
    const state = evaluatedState();
    expect(state.record()).toMatchObject({ context: context('v1'), advice: allow, enforcement: null, outcome: null });
  });

  it('enforce records an execute verdict and authorises exactly the re-checked action type', () => {
    const state = evaluatedState();
    expect(state.enforce(context('v1'), allow)).toBeNull();
    expect(state.enforcement).toMatchObject({ verdict: 'execute', blockedReason: null, idempotencyKey: 'att-1', recheckAdvice: allow });
    expect(state.authorisedActionType.version).toBe('v1');
  });

  it('enforce returns and records why the action must not run; nothing is then authorised', () => {
    const state = evaluatedState();
    const reason = state.enforce(context('v2'), allow);
    expect(reason).toMatch(/action type's configuration changed since evaluation \(v1 → v2\)/);
    expect(state.enforcement).toMatchObject({ verdict: 'blocked', blockedReason: reason });
    expect(() => state.authorisedActionType).toThrow(/no action type was authorised/);

    const denied = evaluatedState();
    expect(denied.enforce(context('v1'), deny)).toBe('policy now denies: forbidden by p2');
  });

  it('executed pins the outcome; awaitDecision refuses advice that needs no approval', () => {
    const state = evaluatedState();
    state.executed({ ok: true, result: { refunded: true }, finishedAt: '2026-01-01T00:00:01.000Z' });
    expect(state.record().outcome).toEqual({ ok: true, result: { refunded: true }, finishedAt: '2026-01-01T00:00:01.000Z' });
    expect(() => state.awaitDecision()).toThrow(/does not require approval/);
  });

  it('its fields cannot be assigned from outside (checked by tsc)', () => {
    const state = evaluatedState();
    // Each line below must stay a compile error: the workflow changes an attempt only through the methods.
    const tryAssign = () => {
      // @ts-expect-error context is read-only from outside
      state.context = null;
      // @ts-expect-error advice is read-only from outside
      state.advice = null;
      // @ts-expect-error enforcement is read-only from outside
      state.enforcement = null;
      // @ts-expect-error outcome is read-only from outside
      state.outcome = null;
      // @ts-expect-error status is read-only from outside
      state.status = 'SUCCEEDED';
    };
    // At run time the getters refuse assignment too.
    expect(tryAssign).toThrow(TypeError);
    expect(state.context).toEqual(context('v1'));
  });
});
