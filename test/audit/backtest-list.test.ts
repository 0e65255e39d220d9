/**
 * Policy back-testing and `ecp audit list` over a real dev server and an archive: some attempts sealed (one of them
 * then deleted from Temporal, as retention would), the others only retained by Temporal.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../audit/archive/archive';
import { sealAttempt } from '../../audit/archive/sealer';
import { backtest, type BacktestReport } from '../../audit/backtest';
import { listArchived, listRetained, mergeListings, type AuditFilter } from '../../audit/listSources';
import { loadPolicyBundle } from '../../policy/bundle';
import { runEcp } from '../helpers/cli';
import { freePort } from '../helpers/temporalServers';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { runAuditScenario, type AuditScenario } from './archiveFixtures';

let plane: TestPlane;
let scenario: AuditScenario;
let archive: Archive;
let scratch: string;
let stricter: string;
let looser: string;

/** A candidate bundle: the plane's policies with some text replaced. */
function candidate(name: string, edits: Record<string, Array<[string, string]>>): string {
  const dir = join(scratch, name);
  cpSync(plane.policiesDir, dir, { recursive: true });
  for (const [file, replacements] of Object.entries(edits)) {
    let text = readFileSync(join(dir, file), 'utf8');
    for (const [from, to] of replacements) {
      if (!text.includes(from)) throw new Error(`${file} has no "${from}"`);
      text = text.replace(from, to);
    }
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

beforeAll(async () => {
  plane = await startTestPlane();
  scratch = mkdtempSync(join(tmpdir(), 'ecp-backtest-test-'));
  scenario = await runAuditScenario(plane);
  archive = Archive.local(join(plane.dataDir, 'archive'));
  for (const id of [scenario.autoAllowed, scenario.denied, scenario.approved, scenario.rejected]) await sealAttempt(archive, plane.ecp, id);
  // Retention ends for one archived attempt: only the archive still has it.
  await plane.ecp.client.workflowService.deleteWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId: scenario.denied },
  });
  stricter = candidate('stricter', {
    'refunds.cedar': [
      ['context.parameters.amount <= 5000', 'context.parameters.amount <= 500'],
      ['context.parameters.amount > 5000', 'context.parameters.amount > 500'],
    ],
    'deploys.cedar': [['@quorum("2")', '@quorum("3")']],
  });
  looser = candidate('looser', {
    'refunds.cedar': [
      ['context.parameters.amount <= 5000', 'context.parameters.amount <= 10000'],
      ['context.parameters.amount > 5000', 'context.parameters.amount > 10000'],
    ],
  });
  // The dev server deletes in the background (seen to take 5–40 s) and visibility follows: wait until it shows.
  for (let i = 0; i < 450; i++) {
    const ids = (await listRetained(plane.ecp, {})).map((r) => r.attemptId);
    if (!ids.includes(scenario.denied) && ids.length >= 5) break;
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(async () => {
  await plane?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const bundle = (dir: string) => loadPolicyBundle(dir, { defaultDeadlineSeconds: 86_400 });
const changedIds = (report: BacktestReport) => new Set(report.rows.filter((r) => r.change).map((r) => r.attemptId));
const row = (report: BacktestReport, id: string) => report.rows.find((r) => r.attemptId === id)!;

describe('backtest', () => {
  it('a stricter bundle: exactly the small refund (allow → approval) and the production deploy (quorum 2 → 3) change', async () => {
    const report = await backtest(bundle(stricter), {}, { archive, ecp: plane.ecp });
    expect(report.considered).toBe(6);
    expect(report.evaluated).toBe(6);
    expect(changedIds(report)).toEqual(new Set([scenario.autoAllowed, scenario.production]));
    expect(row(report, scenario.autoAllowed)).toMatchObject({
      change: 'verdict',
      source: 'archive+temporal',
      recorded: { verdict: 'allow', policyIds: ['refunds.small-automatic'] },
      candidate: { verdict: 'require_approval', policyIds: ['refunds.large-needs-finance'] },
    });
    expect(row(report, scenario.production)).toMatchObject({ change: 'requirements', source: 'temporal' });
    expect(row(report, scenario.production).candidate.requirements[0]).toMatchObject({ quorum: 3, groups: ['sre'] });
    expect(row(report, scenario.denied)).toMatchObject({ change: null, source: 'archive' }); // gone from Temporal
    expect(report.byKind).toEqual({ 'allow → require_approval': 1, 'require_approval: requirements': 1 });
  });

  it('a looser bundle: exactly the two refunds that needed finance become automatic', async () => {
    const report = await backtest(bundle(looser), {}, { archive, ecp: plane.ecp });
    expect(changedIds(report)).toEqual(new Set([scenario.approved, scenario.rejected]));
    expect(row(report, scenario.rejected)).toMatchObject({
      recorded: { verdict: 'require_approval' },
      candidate: { verdict: 'allow', policyIds: ['refunds.small-automatic'] },
    });
  });

  it('the current bundle changes nothing; filters narrow the attempts; the archive alone still works', async () => {
    const same = await backtest(bundle(plane.policiesDir), {}, { archive, ecp: plane.ecp });
    expect(same.changed).toBe(0);
    const deploys = await backtest(bundle(stricter), { actionType: 'deploys.release' }, { archive, ecp: plane.ecp });
    expect(new Set(deploys.rows.map((r) => r.attemptId))).toEqual(new Set([scenario.staging, scenario.production]));
    const recent = await backtest(bundle(stricter), { since: new Date(scenario.midpoint) }, { archive, ecp: plane.ecp });
    expect(changedIds(recent)).toEqual(new Set([scenario.production]));
    const offline = await backtest(bundle(stricter), {}, { archive, ecp: null });
    expect(offline.considered).toBe(4);
    expect(changedIds(offline)).toEqual(new Set([scenario.autoAllowed]));
  });
});

describe('audit list', () => {
  const list = async (filter: AuditFilter) => {
    const archived = await listArchived(archive, filter);
    const retained = await listRetained(plane.ecp, filter, { archived: new Map(archived.map((a) => [a.attemptId, a])) });
    return mergeListings(archived, retained);
  };
  const ids = async (filter: AuditFilter) => new Set((await list(filter)).map((r) => r.attemptId));

  it('merges archive and visibility, marking the source', async () => {
    const all = await list({});
    expect(all).toHaveLength(6);
    const source = Object.fromEntries(all.map((r) => [r.attemptId, r.source]));
    expect(source).toEqual({
      [scenario.autoAllowed]: 'archive+temporal',
      [scenario.approved]: 'archive+temporal',
      [scenario.rejected]: 'archive+temporal',
      [scenario.denied]: 'archive',
      [scenario.staging]: 'temporal',
      [scenario.production]: 'temporal',
    });
  });

  it('filters by agent, action type, status, approver and time range', async () => {
    expect(await ids({ agent: 'deploy-bot' })).toEqual(new Set([scenario.staging, scenario.production]));
    expect(await ids({ actionType: 'payments.refund' })).toEqual(
      new Set([scenario.autoAllowed, scenario.denied, scenario.approved, scenario.rejected]),
    );
    expect(await ids({ status: 'DENIED' })).toEqual(new Set([scenario.denied]));
    expect(await ids({ status: 'REJECTED' })).toEqual(new Set([scenario.rejected]));
    expect(await ids({ approver: 'alice' })).toEqual(new Set([scenario.approved])); // her rejection is not an approval
    expect(await ids({ approver: 'bob' })).toEqual(new Set([scenario.production])); // found through its record in Temporal
    expect(await ids({ until: new Date(scenario.midpoint) })).toEqual(new Set([scenario.autoAllowed, scenario.denied]));
    expect(await ids({ since: new Date(scenario.midpoint), agent: 'refund-bot' })).toEqual(new Set([scenario.approved, scenario.rejected]));
  });
});

describe('the ecp audit commands', () => {
  const ecp = (args: string[], env: Record<string, string> = {}) => runEcp(plane, args, { env });

  it('list --jsonl gives one JSON object per line, for SIEM ingestion', async () => {
    const out = await ecp(['audit', 'list', '--jsonl', '--approver', 'alice']);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const item = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(item).sort()).toEqual(
      [
        'actionType',
        'adviceVerdict',
        'agent',
        'archive',
        'attemptId',
        'closedAt',
        'decisions',
        'proposalHash',
        'resource',
        'source',
        'startedAt',
        'status',
      ].sort(),
    );
    expect(item).toMatchObject({
      attemptId: scenario.approved,
      status: 'SUCCEEDED',
      source: 'archive+temporal',
      decisions: [{ human: 'alice', verdict: 'approve' }],
    });
    const json = await ecp(['audit', 'list', '--json', '--agent', 'deploy-bot']);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(2);
  });

  it('list works from the archive alone when Temporal is unreachable, and says so on stderr', async () => {
    const out = await ecp(['audit', 'list', '--json'], { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/not reachable.*archive only/);
    expect(
      new Set((JSON.parse(out.stdout) as Array<{ attemptId: string; source: string }>).map((r) => `${r.attemptId}:${r.source}`)),
    ).toEqual(new Set([scenario.autoAllowed, scenario.denied, scenario.approved, scenario.rejected].map((id) => `${id}:archive`)));
  });

  it('backtest prints the changes as JSON, exits 0, and 7 with --fail-on-change', async () => {
    const out = await ecp(['audit', 'backtest', '--policies', looser, '--json']);
    expect(out.code).toBe(0);
    expect(changedIds(JSON.parse(out.stdout) as BacktestReport)).toEqual(new Set([scenario.approved, scenario.rejected]));
    const table = await ecp(['audit', 'backtest', '--policies', stricter]);
    expect(table.stdout).toContain(scenario.autoAllowed);
    expect(table.stdout).toMatch(/2 would change \(allow → require_approval: 1, require_approval: requirements: 1\)/);
    expect((await ecp(['audit', 'backtest', '--policies', stricter, '--fail-on-change'])).code).toBe(7);
    expect((await ecp(['audit', 'backtest', '--policies', plane.policiesDir, '--fail-on-change'])).code).toBe(0);
  });

  it('archive --all-retained seals the rest, and archive-status prints a checkpoint', async () => {
    const out = await ecp(['audit', 'archive', '--all-retained', '--json']);
    expect(out.code).toBe(0);
    const results = (JSON.parse(out.stdout) as { results: Array<{ attemptId: string; outcome: string }> }).results;
    expect(new Set(results.filter((r) => r.outcome === 'sealed').map((r) => r.attemptId))).toEqual(
      new Set([scenario.staging, scenario.production]),
    );
    const status = JSON.parse((await ecp(['audit', 'archive-status', '--json', '--offline'])).stdout) as {
      entries: number;
      head: { checkpoint: string };
    };
    expect(status.entries).toBe(6);
    expect(status.head.checkpoint).toMatch(/^6:sha256:[0-9a-f]{64}$/);
  });
});
