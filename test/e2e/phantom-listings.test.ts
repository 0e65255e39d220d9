import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcpClient } from '../../client';
import { ListingSealVerifier } from '../../client/listingSeal';
import {
  actionTypeKey,
  agentKey,
  attemptIdFor,
  awaitingGroupsKey,
  deadlineKey,
  EcpError,
  proposalHashKey,
  sealKey,
  statusKey,
  TASK_QUEUE,
  LEGACY_WORKFLOW_TYPE,
  WORKFLOW_TYPE,
  type AttemptStatus,
  type ProposalInput,
} from '../../common';
import type { AttemptSummary } from '../../client/ecpClient';
import { refund, uniqueKey, waitForStatus } from '../helpers/attempts';
import { runCommand, runEcp } from '../helpers/cli';
import { startTestConsole, type TestConsole } from '../helpers/console';
import { startTestPlane, type TestPlane } from '../helpers/plane';

/**
 * Someone with Temporal client access starts workflows of ECP's type around the plane, choosing their search
 * attributes and memo. None of them may be listed to humans as attempts, and opening one answers quickly.
 */
let plane: TestPlane;
let web: TestConsole;
let genuine: { attemptId: string; resource: string };
let readme: { attemptId: string; resource: string };
let denied: string;
/** A genuine attempt whose starter lied in its memo and search attributes: listed, with the workflow's own values. */
let lied: { attemptId: string; resource: string };
/** The same lie, told through the workflow type attempts had before ECP 0.6. */
let liedLegacy: { attemptId: string; resource: string };
/** On a task queue no worker polls, made up to look like a refund waiting for finance, with a copied seal. */
let waitingPhantom: string;
/** On the plane's queue with a workflow ID that is not the attempt ID: fails at once; claims SUCCEEDED. */
let succeededPhantom: string;
let cookie: string;

const phantomAttributes = (status: AttemptStatus, seal: string | null, agent = 'refund-bot') => [
  { key: statusKey, value: status },
  { key: agentKey, value: agent },
  { key: actionTypeKey, value: 'payments.refund' },
  { key: proposalHashKey, value: 'sha256:' + '0'.repeat(64) },
  { key: awaitingGroupsKey, value: ['finance'] },
  { key: deadlineKey, value: new Date(Date.now() + 3_600_000) },
  ...(seal ? [{ key: sealKey, value: seal }] : []),
];

async function api(path: string) {
  const res = await web.app.request(`http://localhost${path}`, { headers: { cookie } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Visibility is eventually consistent: poll until `ready` holds for the listing. */
async function eventually<T>(read: () => Promise<T>, ready: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ready(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const ids = (list: Array<{ attemptId: string }>) => list.map((a) => a.attemptId);

beforeAll(async () => {
  plane = await startTestPlane();
  web = await startTestConsole(plane);
  const res = await web.app.request('http://localhost/api/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ human: 'alice', secret: web.secrets.alice }),
  });
  expect(res.status).toBe(200);
  cookie = res.headers.get('set-cookie')!.split(';')[0]!;

  // A genuine attempt waiting for finance, through the client library.
  const proposal = refund(7_500, 'order-1001');
  const { attemptId } = await plane.ecp.propose(proposal);
  await waitForStatus(plane.ecp, attemptId, 'AWAITING_DECISION');
  genuine = { attemptId, resource: 'order-1001' };

  // A genuine attempt started as the README shows, with the plain Temporal CLI (no memo).
  const key = uniqueKey('readme');
  readme = { attemptId: attemptIdFor('refund-bot', key), resource: 'order-1003' };
  const started = await runCommand('temporal', [
    'workflow',
    'start',
    '--address',
    plane.address,
    '--task-queue',
    TASK_QUEUE,
    '--type',
    WORKFLOW_TYPE,
    '--workflow-id',
    readme.attemptId,
    '--id-conflict-policy',
    'UseExisting',
    '--id-reuse-policy',
    'RejectDuplicate',
    '--search-attribute',
    'EcpAgent="refund-bot"',
    '--search-attribute',
    'EcpActionType="payments.refund"',
    '--input',
    JSON.stringify({
      proposal: {
        agent: 'refund-bot',
        actionType: 'payments.refund',
        resource: 'order-1003',
        parameters: { orderId: 'order-1003', amount: 6000, reason: 'late delivery' },
        justification: 'Courier lost it for a week',
        claims: {},
        idempotencyKey: key,
      },
    }),
  ]);
  expect(started.code, started.stderr).toBe(0);
  await waitForStatus(plane.ecp, readme.attemptId, 'AWAITING_DECISION');

  // A genuine attempt the policy denies (refunds above the order total), to see closed attempts still listed.
  denied = (await plane.ecp.propose(refund(50_000, 'order-1002'))).attemptId;
  await waitForStatus(plane.ecp, denied, 'DENIED');

  // Genuine attempts (of both workflow types) whose starter lied in its memo and search attributes.
  const startLiar = async (type: string, amount: number) => {
    const proposal = refund(amount, 'order-1001');
    const liar = { attemptId: attemptIdFor('refund-bot', proposal.idempotencyKey), resource: 'order-1001' };
    await plane.ecp.client.workflow.start(type, {
      workflowId: liar.attemptId,
      taskQueue: TASK_QUEUE,
      args: [{ proposal }],
      memo: { resource: 'order-LIE' },
      typedSearchAttributes: phantomAttributes('SUCCEEDED', 'v1:forged', 'deploy-bot'),
    });
    await waitForStatus(plane.ecp, liar.attemptId, 'AWAITING_DECISION');
    return liar;
  };
  lied = await startLiar(WORKFLOW_TYPE, 7_500);
  liedLegacy = await startLiar(LEGACY_WORKFLOW_TYPE, 7_600);

  // The genuine attempt's seal, copied into a phantom: it is bound to another run, so it must not count.
  const described = await plane.ecp.client.workflow.getHandle(genuine.attemptId).describe();
  const copiedSeal = described.typedSearchAttributes.get(sealKey);
  expect(copiedSeal, 'a genuine attempt publishes its seal').toMatch(/^v1:/);

  const phantomProposal: ProposalInput = refund(7_500, 'order-1004');
  waitingPhantom = attemptIdFor('refund-bot', phantomProposal.idempotencyKey);
  await plane.ecp.client.workflow.start(WORKFLOW_TYPE, {
    workflowId: waitingPhantom,
    taskQueue: 'no-worker-here',
    args: [{ proposal: phantomProposal }],
    memo: { resource: 'order-PHANTOM' },
    typedSearchAttributes: phantomAttributes('AWAITING_DECISION', copiedSeal!),
  });

  succeededPhantom = 'att-ffffffffffffffffffffffffffffffff';
  await plane.ecp.client.workflow.start(WORKFLOW_TYPE, {
    workflowId: succeededPhantom,
    taskQueue: TASK_QUEUE,
    args: [{ proposal: refund(100, 'order-1005') }],
    memo: { resource: 'order-PHANTOM' },
    typedSearchAttributes: phantomAttributes('SUCCEEDED', null),
  });
  // It fails at once: its workflow ID is not the attempt ID of its proposal.
  await expect(plane.ecp.client.workflow.getHandle(succeededPhantom).result()).rejects.toThrow();
}, 240_000);

afterAll(async () => {
  await plane?.ecp.client.workflow
    .getHandle(waitingPhantom)
    .terminate('test over')
    .catch(() => {});
  await web?.close();
  await plane?.teardown();
});

describe('phantom attempts (started around the plane) are never listed', () => {
  it('the inbox (`/api/inbox`) and `ecp pending --as alice` show genuine attempts, with their resource, and no phantom', async () => {
    const inbox = await eventually(
      () => api('/api/inbox'),
      (r) => [genuine, readme, lied, liedLegacy].every((a) => ids(r.body.attempts).includes(a.attemptId)),
    );
    expect(inbox.status).toBe(200);
    const rows = inbox.body.attempts as AttemptSummary[];
    expect(ids(rows)).toEqual(expect.arrayContaining([genuine.attemptId, readme.attemptId]));
    expect(ids(rows)).not.toContain(waitingPhantom);
    expect(ids(rows)).not.toContain(succeededPhantom);
    expect(rows.find((a) => a.attemptId === genuine.attemptId)?.resource).toBe(genuine.resource);
    // Started with the README's plain `temporal workflow start`: the resource still comes from the workflow itself.
    expect(rows.find((a) => a.attemptId === readme.attemptId)?.resource).toBe(readme.resource);
    // A starter's memo and search attributes never show beside the seal: every column is the workflow's own.
    for (const liar of [lied, liedLegacy]) {
      expect(rows.find((a) => a.attemptId === liar.attemptId)).toMatchObject({
        status: 'AWAITING_DECISION',
        agent: 'refund-bot',
        resource: liar.resource,
      });
    }

    const run = await runEcp(plane, ['pending', '--as', 'alice', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const pending = JSON.parse(run.stdout) as AttemptSummary[];
    expect(ids(pending)).toEqual(expect.arrayContaining([genuine.attemptId, readme.attemptId]));
    expect(ids(pending)).not.toContain(waitingPhantom);
    expect(pending.find((a) => a.attemptId === readme.attemptId)?.resource).toBe(readme.resource);
  });

  it('`ecp list`, `/api/attempts` and `ecp audit list` show no phantom, neither waiting nor "SUCCEEDED"', async () => {
    const all = await eventually(
      () => api('/api/attempts?limit=500'),
      (r) => ids(r.body.attempts).includes(denied),
    );
    expect(ids(all.body.attempts)).toEqual(expect.arrayContaining([genuine.attemptId, readme.attemptId, denied]));
    expect(ids(all.body.attempts)).not.toContain(waitingPhantom);
    expect(ids(all.body.attempts)).not.toContain(succeededPhantom);
    const succeeded = await api('/api/attempts?status=SUCCEEDED');
    expect(ids(succeeded.body.attempts)).not.toContain(succeededPhantom);

    const list = await runEcp(plane, ['list', '--json', '--limit', '500']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as AttemptSummary[];
    expect(ids(rows)).toEqual(expect.arrayContaining([genuine.attemptId, readme.attemptId, denied]));
    expect(ids(rows)).not.toContain(waitingPhantom);
    expect(ids(rows)).not.toContain(succeededPhantom);
    expect(rows.find((a) => a.attemptId === denied)).toMatchObject({ status: 'DENIED', resource: 'order-1002' });

    const audit = await runEcp(plane, ['audit', 'list', '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    const audited = JSON.parse(audit.stdout) as Array<{ attemptId: string; resource: string | null }>;
    expect(ids(audited)).toEqual(expect.arrayContaining([genuine.attemptId, denied]));
    expect(ids(audited)).not.toContain(waitingPhantom);
    expect(ids(audited)).not.toContain(succeededPhantom);
    expect(audited.find((a) => a.attemptId === readme.attemptId)?.resource).toBe(readme.resource);
  });

  it('the live inbox (SSE) shows no phantom', async () => {
    const res = await web.app.request('http://localhost/api/events', { headers: { cookie } });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const data = JSON.parse(/event: inbox\ndata: (.*)\n/.exec(text)![1]!) as { attempts: AttemptSummary[] };
    expect(ids(data.attempts)).toContain(genuine.attemptId);
    expect(ids(data.attempts)).not.toContain(waitingPhantom);
  });

  it('opening a phantom answers within seconds, saying it is not an attempt of this plane', async () => {
    let t = Date.now();
    const shown = await runEcp(plane, ['show', waitingPhantom], { timeoutMs: 20_000 });
    expect(Date.now() - t).toBeLessThan(12_000);
    expect(shown.code).not.toBe(0);
    expect(shown.stderr).toMatch(/not an attempt of this plane/);

    t = Date.now();
    const opened = await api(`/api/attempts/${waitingPhantom}`);
    expect(Date.now() - t).toBeLessThan(8_000);
    expect(opened.status).toBe(404);
    expect(opened.body.error.message).toMatch(/not an attempt of this plane/);
  });

  it('an attempt on the plane queue that no worker serves answers within ~5 s with a clear message', async () => {
    await plane.stopWorker();
    const orphan = attemptIdFor('refund-bot', uniqueKey('orphan'));
    try {
      await plane.ecp.client.workflow.start(WORKFLOW_TYPE, {
        workflowId: orphan,
        taskQueue: TASK_QUEUE,
        args: [{ proposal: refund(100, 'order-1005') }],
      });
      const t = Date.now();
      const err = await plane.ecp.getRecord(orphan).catch((e: unknown) => e);
      expect(Date.now() - t).toBeLessThan(8_000);
      expect(err).toBeInstanceOf(EcpError);
      expect((err as EcpError).message).toMatch(/no ECP worker answered for attempt .* within 5 s; it may not be an attempt of this plane/);
    } finally {
      await plane.ecp.client.workflow
        .getHandle(orphan)
        .terminate('test over')
        .catch(() => {});
      await plane.startWorker();
    }
  });

  it("a starter's values are cleared on attempts that never wait: no groups, deadline, hash or seal of theirs stays", async () => {
    const liar = async (type: string, amount: number, order: string, lies: 'typed' | 'untyped') => {
      const proposal = refund(amount, order);
      const attemptId = attemptIdFor('refund-bot', proposal.idempotencyKey);
      if (lies === 'typed') {
        await plane.ecp.client.workflow.start(type, {
          workflowId: attemptId,
          taskQueue: TASK_QUEUE,
          args: [{ proposal }],
          typedSearchAttributes: phantomAttributes('AWAITING_DECISION', 'v1:forged', 'deploy-bot'),
        });
      } else {
        // A raw start whose values carry no type information, which the workflow's typed view does not show.
        const json = (value: unknown) => ({
          metadata: { encoding: new TextEncoder().encode('json/plain') },
          data: new TextEncoder().encode(JSON.stringify(value)),
        });
        await plane.ecp.client.workflowService.startWorkflowExecution({
          namespace: plane.ecp.client.options.namespace,
          workflowId: attemptId,
          workflowType: { name: type },
          taskQueue: { name: TASK_QUEUE },
          input: { payloads: [json({ proposal })] },
          requestId: attemptId,
          searchAttributes: {
            indexedFields: {
              EcpAgent: json('deploy-bot'),
              EcpProposalHash: json('sha256:' + '0'.repeat(64)),
              EcpAwaitingGroups: json(['finance']),
              EcpDeadline: json(new Date(Date.now() + 3_600_000).toISOString()),
              EcpSeal: json('v1:forged'),
            },
          },
        });
      }
      const handle = plane.ecp.client.workflow.getHandle(attemptId);
      const record = (await handle.result()) as { status: string; proposalHash: string };
      return { attemptId, record };
    };
    const liars = [
      await liar(WORKFLOW_TYPE, 1_000, 'order-1001', 'typed'),
      await liar(WORKFLOW_TYPE, 1_100, 'order-1001', 'untyped'),
      await liar(LEGACY_WORKFLOW_TYPE, 1_200, 'order-1001', 'untyped'),
      await liar(WORKFLOW_TYPE, 50_000, 'order-1002', 'typed'),
    ];
    expect(liars.map((l) => l.record.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'DENIED']);
    for (const { attemptId, record } of liars) {
      const sa = (await plane.ecp.client.workflow.getHandle(attemptId).describe()).typedSearchAttributes;
      expect(sa.get(statusKey), attemptId).toBe(record.status);
      expect(sa.get(agentKey), attemptId).toBe('refund-bot');
      expect(sa.get(proposalHashKey), attemptId).toBe(record.proposalHash);
      expect(sa.get(awaitingGroupsKey) ?? [], attemptId).toEqual([]);
      expect(sa.get(deadlineKey), attemptId).toBeUndefined();
      expect(sa.get(sealKey), attemptId).toMatch(/^v1:(?!forged$)/); // listed below: a seal of this plane
    }
    const rows = (
      await eventually(
        () => api('/api/attempts?limit=500'),
        (r) => liars.every((l) => ids(r.body.attempts).includes(l.attemptId)),
      )
    ).body.attempts as AttemptSummary[];
    for (const { attemptId, record } of liars) {
      expect(rows.find((a) => a.attemptId === attemptId)).toMatchObject({
        status: record.status,
        agent: 'refund-bot',
        awaitingGroups: [],
        deadline: null,
      });
    }
  });

  it('listing fails closed without the plane public key (no unchecked list)', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ecp-nokey-'));
    try {
      const blind = new EcpClient(plane.ecp.client, plane.runtime.config, ListingSealVerifier.fromDataDir(empty, {}));
      await expect(blind.listAttempts()).rejects.toThrow(/cannot verify attempt listings: no plane public key/);
      const run = await runEcp(plane, ['list', '--json'], { env: { ECP_DATA_DIR: empty } });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/no plane public key/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
