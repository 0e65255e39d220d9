/**
 * One source for each rule (issue 11): the plane and whoever re-applies its rules (the auditor, the console API, the
 * client library) call the same function. These tests hold both sides to it: on every saved record, and on inputs made
 * to reach each branch of the rule.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicyActivities } from '../../activities/policy';
import { attemptView } from '../../api/view';
import { bundleFromPack, policyPartVersion } from '../../audit/pack/policy';
import { packPolicyBundle } from '../../audit/bundleStore';
import { EcpClient } from '../../client/ecpClient';
import { ListingSealVerifier } from '../../client/listingSeal';
import { publicKeyHex, signDecision } from '../../client/keys';
import {
  checkDecision,
  EcpError,
  keyFingerprint,
  parseProposal,
  proposalProblems,
  REFUSAL_CODES,
  type AttemptRecord,
  type DecisionCheckInput,
  type ProposalInput,
  type RefusalCode,
} from '../../common';
import { PlaneRuntime } from '../../config/runtime';
import { prepareDemo } from '../../examples/demo/setup';
import { adviceFor } from '../../policy/attemptAdvice';
import type { PolicyBundle } from '../../policy/bundle';
import { SHORT_DEADLINE_POLICY } from '../replay/scenarios';

const root = join(import.meta.dirname, '..', '..');
const DEMO_POLICIES = join(root, 'examples', 'demo', 'policies');

/**
 * Every saved history that ends with a record with advice: the replay suite's (current, of both workflow types,
 * ECP 0.5, 0.4, 0.3, 0.2 and 0.1)
 * and the audit fixtures. (Those of failed evaluations, `histories-failed-evaluation`, have no advice to re-derive.)
 */
const HISTORY_DIRS = [
  'histories',
  'histories-one-marker',
  'histories-v0.5',
  'histories-v0.4',
  'histories-v0.3',
  'histories-v0.2',
  'histories-v0.1',
]
  .map((d) => join(root, 'test', 'replay', d))
  .concat(join(root, 'test', 'audit', 'fixtures'));

function savedRecords(): Array<[string, AttemptRecord]> {
  const out: Array<[string, AttemptRecord]> = [];
  for (const dir of HISTORY_DIRS) {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'workflow-ids.json')
      .sort()) {
      const history = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        events: Array<{ workflowExecutionCompletedEventAttributes?: { result: { payloads: Array<{ data: string }> } } }>;
      };
      const done = history.events.at(-1)?.workflowExecutionCompletedEventAttributes;
      if (!done) continue; // a workflow that failed (an invalid proposal) has no record
      out.push([
        `${dir.slice(root.length + 1)}/${file}`,
        JSON.parse(Buffer.from(done.result.payloads[0]!.data, 'base64').toString('utf8')) as AttemptRecord,
      ]);
    }
  }
  return out;
}
const RECORDS = savedRecords();

let work: string;
/** Real plane runtimes (ecp.yaml → PlaneRuntime) for each policy set the saved histories were recorded with. */
const runtimes: PlaneRuntime[] = [];

/** A plane configuration as the test plane builds it (test/helpers/plane.ts), with `editSchema` applied. */
function runtimeWith(name: string, editSchema: (schema: string) => string = (s) => s): PlaneRuntime {
  const policies = join(work, name, 'policies');
  cpSync(DEMO_POLICIES, policies, { recursive: true });
  writeFileSync(join(policies, 'zz-short-deadline.cedar'), SHORT_DEADLINE_POLICY);
  writeFileSync(join(policies, 'schema.cedarschema'), editSchema(readFileSync(join(policies, 'schema.cedarschema'), 'utf8')));
  const configPath = join(work, name, 'ecp.yaml');
  writeFileSync(
    configPath,
    stringify({
      policies: './policies',
      actionTypes: join(root, 'examples', 'demo', 'action-types.yaml'),
      directory: join(work, 'demo', 'directory.yaml'),
    }),
  );
  return new PlaneRuntime(configPath);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ecp-one-source-'));
  prepareDemo(work);
  // The demo action types name their target through the environment (npm start and the test plane set these).
  process.env.DEMO_TARGET_URL ??= 'http://127.0.0.1:1';
  process.env.DEMO_TARGET_TOKEN ??= 'unused';
  runtimes.push(
    runtimeWith('current'),
    // ECP 0.1's demo schema named the claim `orderTotal` (renamed to `total` since): its histories pinned that bundle.
    runtimeWith('v0.1', (s) => s.replace('claims: { total?: Long }', 'claims: { orderTotal?: Long }')),
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runtimeFor(record: AttemptRecord): PlaneRuntime {
  const runtime = runtimes.find((r) => r.config.bundle.version === record.context!.bundleVersion);
  if (!runtime) throw new Error(`no policy set in this test hashes to ${record.context!.bundleVersion}`);
  return runtime;
}

/** The bundle an auditor rebuilds from the policy part an evidence pack carries for the plane's bundle. */
const auditorsBundle = (bundle: PolicyBundle) => bundleFromPack(structuredClone(packPolicyBundle(bundle)));

/** The parts of a bundle that decide advice and requirements (`dir` and `sources` only label messages). */
const rules = ({ dir: _dir, sources: _sources, ...rest }: PolicyBundle) => rest;

describe('advice: the auditor re-derives what the plane recorded, with the plane’s own rule', () => {
  it('covers every saved record, of both policy sets', () => {
    expect(RECORDS.length).toBe(55);
    expect(new Set(RECORDS.map(([, r]) => runtimeFor(r)))).toEqual(new Set(runtimes));
  });

  it.each(RECORDS)('%s: plane and auditor both give the recorded advice', async (_name, record) => {
    const runtime = runtimeFor(record);
    const planeAdvice = await createPolicyActivities(runtime).evaluatePolicy({ proposal: record.proposal, context: record.context! });
    const auditorBundle = auditorsBundle(runtime.config.bundle);
    expect(policyPartVersion(packPolicyBundle(runtime.config.bundle))).toBe(record.advice!.bundleVersion);
    expect(planeAdvice).toEqual(record.advice);
    expect(adviceFor(auditorBundle, record.proposal, record.context!)).toEqual(record.advice);
    const e = record.enforcement;
    if (e?.recheckContext && e.recheckAdvice) {
      expect(await createPolicyActivities(runtime).evaluatePolicy({ proposal: record.proposal, context: e.recheckContext })).toEqual(
        e.recheckAdvice,
      );
      expect(adviceFor(auditorBundle, record.proposal, e.recheckContext)).toEqual(e.recheckAdvice);
    }
  });

  it('the comparison can fail: an edited policy text gives other advice', () => {
    const record = RECORDS.find(([name]) => name.endsWith('histories/succeeded-quorum.json'))![1];
    const part = packPolicyBundle(runtimeFor(record).config.bundle);
    const id = 'deploys.production-two-sre';
    const edited = { ...part, policies: { ...part.policies, [id]: part.policies[id]!.replace('@quorum("2")', '@quorum("3")') } };
    expect(edited.policies[id]).not.toBe(part.policies[id]);
    expect(adviceFor(bundleFromPack(edited), record.proposal, record.context!)).not.toEqual(record.advice);
  });

  it('the auditor’s bundle is the plane’s bundle: same version, effects, requirements, groups, actions', () => {
    for (const runtime of runtimes) {
      const plane = runtime.config.bundle;
      expect(rules(auditorsBundle(plane))).toEqual(rules(plane));
      expect(plane.actions.length).toBeGreaterThan(0);
    }
  });

  it.each([
    ['problems found while gathering context', { problems: ['agent "x" is not in the directory'] }],
    ['facts the provider could not give', { factsError: 'context provider failed after 3 attempts: 503' }],
    ['an agent missing from the pinned directory', { agentMissing: true }],
    ['a key Cedar reserves, smuggled in the facts', { facts: { __entity: { type: 'Agent', id: 'x' } } }],
    ['facts that change the policy outcome', { facts: { service: 'checkout', currentVersion: '1.0.0', frozen: true } }],
  ] as const)('plane and auditor agree on %s', async (_what, change) => {
    for (const [, record] of RECORDS) {
      const runtime = runtimeFor(record);
      const base = record.context!;
      const context = {
        ...base,
        problems: 'problems' in change ? [...change.problems] : base.problems,
        factsError: 'factsError' in change ? change.factsError : base.factsError,
        facts: 'facts' in change ? (change.facts as typeof base.facts) : base.facts,
        directory: 'agentMissing' in change ? { ...base.directory, agent: null } : base.directory,
      };
      const planeAdvice = await createPolicyActivities(runtime).evaluatePolicy({ proposal: record.proposal, context });
      expect(adviceFor(auditorsBundle(runtime.config.bundle), record.proposal, context)).toEqual(planeAdvice);
    }
  });
});

describe('who may decide: the console API applies the workflow’s decision rule', () => {
  const keys = new Map<string, { privateKey: KeyObject; publicKey: string }>();
  const keyOf = (human: string) => {
    if (!keys.has(human)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      keys.set(human, { privateKey, publicKey: publicKeyHex(privateKey) });
    }
    return keys.get(human)!;
  };
  const NOW = Date.parse('2026-11-22T03:00:00.000Z');

  /** The saved quorum attempt (two of sre; the agent is owned by dave) as it stood while awaiting decisions. */
  function awaiting(): AttemptRecord {
    const record = structuredClone(RECORDS.find(([name]) => name.endsWith('histories/succeeded-quorum.json'))![1]);
    const humans = record.context!.directory.humans;
    humans.frank = { groups: ['sre'], publicKeys: [] };
    for (const [id, human] of Object.entries(humans)) human.publicKeys = id === 'frank' ? [] : [keyOf(id).publicKey];
    return {
      ...record,
      status: 'AWAITING_DECISION',
      deadline: new Date(NOW + 3_600_000).toISOString(),
      requirements: record.requirements.map((r) => ({ ...r, approvedBy: [], met: false })),
      decisions: { ...record.decisions, accepted: [], refused: [] },
    };
  }
  /** An accepted decision of `human`, as the workflow records it. */
  const accepted = (record: AttemptRecord, human: string, verdict: 'approve' | 'reject' = 'approve') => {
    const signed = signDecision(
      {
        v: 1,
        attemptId: record.attemptId,
        proposalHash: record.proposalHash,
        verdict,
        human,
        reason: '',
        decidedAt: new Date(NOW - 60_000).toISOString(),
      },
      keyOf(human).privateKey,
    );
    return {
      human,
      verdict,
      reason: '',
      decidedAt: signed.statement.decidedAt,
      receivedAt: signed.statement.decidedAt,
      via: 'update' as const,
      keyFingerprint: keyFingerprint(keyOf(human).publicKey),
      signature: signed.signature,
      statement: signed.statement,
    };
  };

  /** `legacy`: the workflow input of an attempt started before decisions named their key (a keyless human's decision is then refused as bad_signature). */
  type Case = {
    human: string;
    code: RefusalCode | null;
    record: (r: AttemptRecord) => AttemptRecord;
    accepting?: boolean;
    now?: number;
    legacy?: true;
  };
  const cases: Record<string, Case> = {
    'an sre member, before anyone decided': { human: 'bob', code: null, record: (r) => r },
    'after the deadline': { human: 'bob', code: 'deadline_passed', record: (r) => r, now: NOW + 7_200_000 },
    'on an expired attempt': { human: 'bob', code: 'deadline_passed', record: (r) => ({ ...r, status: 'EXPIRED' }), accepting: false },
    'on a closed attempt': { human: 'bob', code: 'not_awaiting', record: (r) => ({ ...r, status: 'SUCCEEDED' }), accepting: false },
    'once the requirements are met (the re-check runs)': {
      human: 'erin',
      code: 'not_awaiting',
      record: (r) => ({
        ...r,
        requirements: r.requirements.map((q) => ({ ...q, approvedBy: ['bob', 'frank'], met: true })),
        decisions: { ...r.decisions, accepted: [accepted(r, 'bob'), accepted(r, 'frank')] },
      }),
      accepting: false,
    },
    'once a rejection counted': {
      human: 'erin',
      code: 'not_awaiting',
      record: (r) => ({ ...r, decisions: { ...r.decisions, accepted: [accepted(r, 'bob', 'reject')] } }),
      accepting: false,
    },
    'the proposing agent': { human: 'deploy-bot', code: 'agent_cannot_decide', record: (r) => r },
    'a human outside the pinned directory': { human: 'mallory', code: 'unknown_human', record: (r) => r },
    'the agent’s owner': { human: 'dave', code: 'self_approval', record: (r) => r },
    'a human in none of the required groups': { human: 'alice', code: 'not_in_required_group', record: (r) => r },
    'a human who already approved': {
      human: 'bob',
      code: 'duplicate_approver',
      record: (r) => ({
        ...r,
        requirements: r.requirements.map((q) => ({ ...q, approvedBy: ['bob'] })),
        decisions: { ...r.decisions, accepted: [accepted(r, 'bob')] },
      }),
    },
    'a required-group member with no registered key': { human: 'frank', code: 'bad_signature', record: (r) => r, legacy: true },
  };

  it('covers every refusal that depends on the attempt and the human, not on the decision sent', () => {
    // Overrides and ratifications are refused for what the decision says (its verdict, justification, named policies),
    // checked by test/workflows/governance.test.ts; the view answers for an approval.
    const governance: RefusalCode[] = [
      'justification_required',
      'not_overridable',
      'not_in_override_group',
      'nothing_to_ratify',
      'not_in_ratify_group',
    ];
    const decisionOnly: RefusalCode[] = ['malformed', 'wrong_attempt', 'wrong_proposal_hash', 'unknown_key', ...governance];
    const covered = new Set(Object.values(cases).map((c) => c.code));
    const all: readonly RefusalCode[] = REFUSAL_CODES;
    expect(all.filter((c) => !decisionOnly.includes(c) && !covered.has(c))).toEqual([]);
  });

  it.each(Object.entries(cases))('%s: the view says what the workflow would answer that human’s signed decision', (_what, c) => {
    const record = c.record(awaiting());
    const now = c.now ?? NOW;
    // The workflow's input for the decision this human signs (workflows/attemptState.ts #checkInput).
    const signed = signDecision(
      {
        v: 1,
        attemptId: record.attemptId,
        proposalHash: record.proposalHash,
        verdict: 'approve',
        human: c.human,
        reason: '',
        decidedAt: new Date(now).toISOString(),
      },
      keyOf(c.human).privateKey,
    );
    const workflowSees: DecisionCheckInput = {
      decision: c.legacy ? { statement: signed.statement, signature: signed.signature } : signed,
      attemptId: record.attemptId,
      proposalHash: record.proposalHash,
      status: record.status,
      accepting: c.accepting ?? true,
      deadlineMs: Date.parse(record.deadline!),
      nowMs: now,
      directory: record.context!.directory,
      requirements: record.advice!.requirements,
      accepted: record.decisions.accepted,
      requireKey: !c.legacy,
    };
    const workflow = checkDecision(workflowSees);
    expect(workflow.ok ? null : workflow.code).toBe(c.code);
    expect(attemptView(record, c.human, now).viewer).toMatchObject(
      workflow.ok ? { mayDecide: true, why: null } : { mayDecide: false, why: workflow.message },
    );
  });
});

describe('admission: the client refuses what the plane would deny for its configuration', () => {
  let ecp: EcpClient;
  beforeAll(() => {
    // A lazy connection never dials unless a call reaches Temporal: a refused proposal must not.
    ecp = new EcpClient(
      new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '100ms' }) }),
      runtimes[0]!.config,
      new ListingSealVerifier(generateKeyPairSync('ed25519').privateKey),
    );
  });
  const refund = (over: Partial<ProposalInput> & { parameters?: Record<string, unknown> } = {}): ProposalInput =>
    ({
      agent: 'refund-bot',
      actionType: 'payments.refund',
      resource: 'order-1',
      idempotencyKey: 'k1',
      justification: 'test',
      parameters: { orderId: 'order-1', amount: 100, reason: 'damaged' },
      ...over,
    }) as ProposalInput;

  it.each([
    ['an agent not in the directory', refund({ agent: 'rogue-bot' }), 'agent'],
    ['an agent id that only Object.prototype knows', refund({ agent: 'constructor' }), 'agent'],
    ['an action type not configured', refund({ actionType: 'payments.wire' }), 'actionType'],
    [
      'parameters that fail the action type’s schema',
      refund({ parameters: { orderId: 'order-1', amount: -5, reason: 'damaged' } }),
      'parameters.amount',
    ],
  ] as const)('%s: refused before anything starts, for the reason the plane records', async (_what, input, field) => {
    const problems = proposalProblems(runtimes[0]!.config, parseProposal(input));
    expect(problems[0]?.field).toBe(field);
    const refusal = await ecp.propose(input).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(EcpError);
    expect(refusal).toMatchObject({ code: 'invalid_input', field });
    expect((refusal as EcpError).message).toContain(problems[0]!.message.replace(/^invalid parameters: /, ''));
  });

  it('a proposal the configuration admits has no problems (the plane records none)', () => {
    expect(proposalProblems(runtimes[0]!.config, parseProposal(refund()))).toEqual([]);
  });

  it.each(RECORDS)('%s: the problems the plane pinned are the rule’s', (_name, record) => {
    const runtime = runtimeFor(record);
    expect(proposalProblems(runtime.config, record.proposal).map((p) => p.message)).toEqual(record.context!.problems);
  });
});
