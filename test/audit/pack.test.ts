/**
 * Evidence packs on a real dev server: export → verify PASS for every terminal status, and every tamper kind — naive
 * (digests left stale) and careful (digests recomputed) — FAILs naming what broke.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportEvidencePack } from '../../audit/pack/export';
import { packFromHistoryJson } from '../../audit/pack/build';
import { parsePack, packBytes } from '../../audit/pack/io';
import { verifyPack, verifyPacks } from '../../audit/pack/verify';
import { verifyThreadCount } from '../../audit/pack/verifyThreads';
import type { EvidencePack } from '../../audit/pack/schema';
import { EcpClient } from '../../client';
import { storePolicyBundle } from '../../audit/bundleStore';
import { EcpError } from '../../common';
import { refund, waitForStatus } from '../helpers/attempts';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { SCENARIOS, SHORT_DEADLINE_POLICY } from '../replay/scenarios';
import { clone, editPayload, editPinnedContext, eventsOf, failedChecks, recordOf, redigestRecord, reseal } from './helpers';

const STATUSES = {
  'succeeded-quorum': 'SUCCEEDED',
  'succeeded-auto': 'SUCCEEDED',
  failed: 'FAILED',
  denied: 'DENIED',
  rejected: 'REJECTED',
  expired: 'EXPIRED',
  cancelled: 'CANCELLED',
} as const;
type Scenario = keyof typeof STATUSES;

let plane: TestPlane;
const packs = {} as Record<Scenario, EvidencePack>;

beforeAll(async () => {
  plane = await startTestPlane({ policies: { 'zz-short-deadline.cedar': SHORT_DEADLINE_POLICY } });
  for (const name of Object.keys(STATUSES) as Scenario[]) {
    const attemptId = await SCENARIOS[name]!(plane);
    packs[name] = await exportEvidencePack(plane.ecp, attemptId);
  }
});
afterAll(async () => {
  await plane?.teardown();
});

describe('export → verify', () => {
  it.each(Object.keys(STATUSES) as Scenario[])('%s: the pack verifies (PASS)', async (name) => {
    const pack = packs[name];
    expect(recordOf(pack).status).toBe(STATUSES[name]);
    expect(parsePack(JSON.parse(Buffer.from(packBytes(pack)).toString('utf8')))).toEqual(pack);
    const result = await verifyPack(pack);
    expect(failedChecks(result)).toEqual([]);
    expect(result.ok).toBe(true);
    const names = result.checks.map((c) => c.name);
    expect(names).toEqual(
      expect.arrayContaining(['digest.history', 'record.history', 'proposal.hash', 'policy.version', 'policy.advice', 'replay']),
    );
    expect(result.checks.find((c) => c.name === 'code.local')?.ok).toBe(true);
  });

  it('checks every accepted decision of a quorum attempt', async () => {
    const result = await verifyPack(packs['succeeded-quorum']);
    const decisions = result.checks.filter((c) => c.name.startsWith('decision['));
    expect(decisions.map((c) => c.name)).toEqual(['decision[0] bob approve', 'decision[1] erin approve']);
    expect(decisions.every((c) => c.ok)).toBe(true);
  });

  it('refuses an unknown attempt and an open one', async () => {
    await expect(exportEvidencePack(plane.ecp, 'att-00000000000000000000000000000000')).rejects.toMatchObject({ code: 'not_found' });
    const { attemptId } = await plane.ecp.propose(refund(6_100));
    await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
    const err = await exportEvidencePack(plane.ecp, attemptId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EcpError);
    expect((err as EcpError).message).toMatch(/still open/);
    await plane.ecp.client.workflow.getHandle(attemptId).cancel();
  });

  it("finds the policy texts in the data dir's bundle store when the configuration no longer has them", async () => {
    const attemptId = packs.denied.attemptId;
    const unconfigured = new EcpClient(plane.ecp.client);
    const err = await exportEvidencePack(unconfigured, attemptId, { dataDir: plane.dataDir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'not_found', field: 'policyBundle' });
    expect((err as Error).message).toContain('policy-bundles');
    storePolicyBundle(plane.dataDir, plane.runtime.config.bundle);
    const pack = await exportEvidencePack(unconfigured, attemptId, { dataDir: plane.dataDir });
    expect(pack.parts.policyBundle).toEqual(packs.denied.parts.policyBundle);
    expect((await verifyPack(pack, { replay: false })).ok).toBe(true);
  });

  it('builds the same pack from the fetched history JSON without a server', async () => {
    const pack = packs['succeeded-quorum'];
    const rebuilt = await packFromHistoryJson(pack.parts.history, {
      policyBundles: [pack.parts.policyBundle!],
      exportedAt: pack.exportedAt,
    });
    expect(rebuilt).toEqual(pack);
  });
});

/** Each tamper: the naive version names the part's digest; the resealed one names the semantic check. */
describe('tampered packs FAIL naming what broke', () => {
  const quorum = () => clone(packs['succeeded-quorum']);

  it('one changed byte in the parameters of the start input in history', async () => {
    const pack = quorum();
    editPayload(eventsOf(pack)[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0], (input) => {
      const proposal = input.proposal as { parameters: { version: string } };
      proposal.parameters.version = proposal.parameters.version.replace('3', '4');
    });
    expect(failedChecks(await verifyPack(pack, { replay: false }))).toEqual(['digest.history', 'proposal.hash']);
    const failed = failedChecks(await verifyPack(reseal(pack)));
    expect(failed).toContain('proposal.hash');
    expect(failed).toContain('replay');
  });

  it('one changed byte in the parameters of the record', async () => {
    const pack = quorum();
    recordOf(pack).proposal.parameters.version = '3.0.1';
    expect(failedChecks(await verifyPack(pack, { replay: false }))).toEqual([
      'digest.record',
      'record.digest',
      'record.history',
      'proposal.hash',
    ]);
    redigestRecord(recordOf(pack));
    const failed = failedChecks(await verifyPack(reseal(pack)));
    expect(failed).toEqual(expect.arrayContaining(['record.history', 'proposal.hash', 'replay']));
    expect(failed).not.toContain('record.digest');
  });

  it('a record whose shape is not ecp.record.v1 (a pack built in memory, never read through parsePack)', async () => {
    const pack = quorum();
    Object.assign(recordOf(pack).decisions.accepted[0]!, { role: 'admin' });
    redigestRecord(recordOf(pack));
    const verification = await verifyPack(reseal(pack), { replay: false });
    expect(failedChecks(verification)).toEqual(expect.arrayContaining(['record.schema', 'record.history']));
    expect(verification.checks.find((c) => c.name === 'record.schema')?.detail).toMatch(/field "decisions\.accepted\[0\]\.role"/);
    // Read from a file, the same pack is refused before any check, naming the field.
    expect(() => parsePack(JSON.parse(new TextDecoder().decode(packBytes(reseal(pack)))))).toThrow(
      /field "parts\.record\.decisions\.accepted\[0\]\.role"/,
    );
  });

  it('a decision: a field of the signed statement', async () => {
    const pack = quorum();
    const decision = recordOf(pack).decisions.accepted[0]!;
    decision.statement.reason = 'looks fine';
    decision.reason = 'looks fine';
    redigestRecord(recordOf(pack));
    const failed = failedChecks(await verifyPack(reseal(pack)));
    expect(failed).toEqual(expect.arrayContaining(['decision[0] bob approve', 'record.history', 'replay']));
    expect(failed).not.toContain('digest.record');
  });

  it('a signature', async () => {
    const pack = quorum();
    const decision = recordOf(pack).decisions.accepted[1]!;
    decision.signature = `${decision.signature.slice(0, -1)}${decision.signature.endsWith('0') ? '1' : '0'}`;
    expect(failedChecks(await verifyPack(pack, { replay: false }))).toEqual([
      'digest.record',
      'record.digest',
      'record.history',
      'decision[1] erin approve',
    ]);
    redigestRecord(recordOf(pack));
    expect(failedChecks(await verifyPack(reseal(pack)))).toEqual(expect.arrayContaining(['decision[1] erin approve', 'replay']));
  });

  it('a history event: the pinned context (activity or local-activity marker)', async () => {
    const pack = quorum();
    const events = eventsOf(pack);
    // The facts the plane pinned: an edit must not survive replay.
    editPinnedContext(events);
    expect(failedChecks(await verifyPack(pack, { replay: false }))).toEqual(['digest.history']);
    const verification = await verifyPack(reseal(pack));
    expect(failedChecks(verification)).toEqual(['replay']);
    // The failure says which field of the record the replay computes differently.
    expect(verification.checks.find((c) => c.name === 'replay')?.detail).toMatch(
      /^replaying the history yields a different record than the one in the pack \(first difference: context\.directory\.version: the pack has "sha256:[0-9a-f]{64}", the replay "sha256:0000"\)$/,
    );
  });

  it('a history event: the completion result', async () => {
    const pack = quorum();
    editPayload(eventsOf(pack).at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0], (record) => {
      record.status = 'DENIED';
    });
    expect(failedChecks(await verifyPack(reseal(pack)))).toEqual(['record.history']);
  });

  it('the policy text', async () => {
    const pack = quorum();
    const policies = pack.parts.policyBundle!.policies;
    policies['deploys.production-two-sre'] = policies['deploys.production-two-sre']!.replace('@quorum("2")', '@quorum("1")');
    expect(failedChecks(await verifyPack(pack, { replay: false }))).toEqual(['digest.policyBundle', 'policy.version', 'policy.advice']);
    pack.parts.policyBundle!.version = (await import('../../audit/pack/policy')).policyPartVersion(pack.parts.policyBundle!);
    expect(failedChecks(await verifyPack(reseal(pack), { replay: false }))).toEqual(['policy.version', 'policy.advice']);
  });

  it('a directory key', async () => {
    const pack = quorum();
    const bob = pack.parts.directory.humans.bob!;
    bob.publicKeys = [bob.publicKeys[0]!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))];
    expect(failedChecks(await verifyPack(pack, { replay: false }))).toEqual([
      'digest.directory',
      'directory.pinned',
      'decision[0] bob approve',
    ]);
    expect(failedChecks(await verifyPack(reseal(pack), { replay: false }))).toEqual(['directory.pinned', 'decision[0] bob approve']);
  });
});

/**
 * The batch path (verification threads, one kept replay worker per thread, no stack-trace hook) gives every pack exactly
 * the checks and verdicts the in-process path does. The tampered pack's only broken check is the replay: its pinned
 * context was edited and every digest recomputed, so a batch path that skipped the replay would pass it.
 */
describe('a batch verified in threads', () => {
  it('fails exactly the tampered pack in the middle and passes the rest, with the same checks as in process', async () => {
    const tampered = clone(packs['succeeded-quorum']);
    editPinnedContext(eventsOf(tampered));
    const good = Object.values(packs);
    const batch = [...good, reseal(tampered), ...good];
    const middle = good.length;
    expect(verifyThreadCount(batch.length, { threads: 2 })).toBe(2);

    // Twice: the second batch replays on the threads' kept replay workers, which have replayed the untouched
    // history of the same attempt already; the tampered pack must fail there too.
    const threaded = await verifyPacks(batch, { threads: 2 });
    const again = await verifyPacks([...batch].reverse(), { threads: 2 });
    for (const [results, order] of [
      [threaded, batch],
      [[...again].reverse(), batch],
    ] as const) {
      expect(results.map((r) => r.attemptId)).toEqual(order.map((p) => p.attemptId));
      expect(results.map((r) => r.ok)).toEqual(order.map((_, i) => i !== middle));
      expect(failedChecks(results[middle]!)).toEqual(['replay']);
      for (const [i, r] of results.entries()) {
        if (i === middle) continue;
        expect(r.checks.find((c) => c.name === 'replay')).toMatchObject({ ok: true });
        expect(r.checks.find((c) => c.name === 'code.local')).toMatchObject({ ok: true });
      }
    }

    // Every check the in-process path runs, with the same outcome, for every pack.
    const inProcess = await verifyPacks(batch, { threads: 0 });
    const summary = (rs: typeof threaded) =>
      rs.map((r) => ({ verdict: r.verdict, checks: r.checks.map((c) => [c.name, c.ok, c.advisory ?? false]) }));
    expect(summary(threaded)).toEqual(summary(inProcess));
  });

  it('refuses a thread count that is not a whole number, naming it', () => {
    expect(() => verifyThreadCount(20, { threads: 1.5 })).toThrow(/threads must be a whole number/);
    const before = process.env.ECP_VERIFY_THREADS;
    process.env.ECP_VERIFY_THREADS = 'many';
    try {
      expect(() => verifyThreadCount(20, {})).toThrow(/ECP_VERIFY_THREADS must be a whole number ≥ 0.*"many"/);
    } finally {
      if (before === undefined) delete process.env.ECP_VERIFY_THREADS;
      else process.env.ECP_VERIFY_THREADS = before;
    }
  });
});
