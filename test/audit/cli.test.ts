/**
 * The auditor's commands through the real `ecp` binary: `ecp history`, `ecp audit export` (from Temporal and from a
 * `temporal workflow show --output json` file), and `ecp audit verify` with no Temporal server reachable.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptTimeline } from '../../audit/timeline';
import type { EvidencePack } from '../../audit/pack/schema';
import { runCommand, runEcp } from '../helpers/cli';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { SCENARIOS } from '../replay/scenarios';

/** Nothing listens here: verify must not need Temporal. */
const NO_SERVER = '127.0.0.1:1';

let plane: TestPlane;
let scratch: string;
let attemptId: string;

const ecp = (args: string[], env?: Record<string, string>) => runEcp(plane, args, { cwd: scratch, env, timeoutMs: 120_000 });
const offline = (...args: string[]) => ecp(args, { TEMPORAL_ADDRESS: NO_SERVER });

beforeAll(async () => {
  plane = await startTestPlane();
  scratch = mkdtempSync(join(tmpdir(), 'ecp-audit-cli-'));
  attemptId = await SCENARIOS['succeeded-quorum']!(plane);
});
afterAll(async () => {
  await plane?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('ecp history', () => {
  it('tells the attempt step by step, with refusals and why', async () => {
    const { code, stdout, stderr } = await ecp(['history', attemptId]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('proposal: deploy-bot → deploys.release on checkout');
    expect(stdout).toContain('advice: require_approval');
    expect(stdout).toContain('deploys.production-two-sre');
    expect(stdout).toMatch(/decision via update: dave approve\s+refused \(self_approval\)/);
    expect(stdout).toMatch(/decision via update: bob approve\s+accepted/);
    expect(stdout).toMatch(/decision via signal: erin approve\s+accepted/);
    expect(stdout).toContain('re-check advice: require_approval');
    expect(stdout).toContain('executor succeeded');
    expect(stdout).toContain('outcome: SUCCEEDED');
  });

  it('--json lists the steps in order', async () => {
    const { code, stdout } = await ecp(['history', attemptId, '--json']);
    expect(code).toBe(0);
    const timeline = JSON.parse(stdout) as AttemptTimeline;
    const kinds = timeline.steps.map((s) => s.kind);
    expect(kinds[0]).toBe('proposal');
    expect(kinds.at(-1)).toBe('outcome');
    expect(kinds.filter((k) => k === 'decision')).toHaveLength(4);
    expect(kinds.indexOf('context')).toBeLessThan(kinds.indexOf('advice'));
    expect(timeline.steps.every((s, i) => i === 0 || s.sinceStartMs >= timeline.steps[i - 1]!.sinceStartMs)).toBe(true);
  });
});

describe('ecp audit export / verify', () => {
  it('exports a pack and verifies it with no Temporal server reachable (exit 0, PASS)', async () => {
    const exported = await ecp(['audit', 'export', attemptId, '-o', 'pack.json']);
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/wrote .*pack\.json \(\d+ bytes/);

    // The same pack built from the plain Temporal CLI's history output, offline.
    const shown = await runCommand('temporal', ['workflow', 'show', '-w', attemptId, '--output', 'json', '--address', plane.address], {
      cwd: scratch,
    });
    expect(shown.code).toBe(0);
    writeFileSync(join(scratch, 'history.json'), shown.stdout);
    const fromFile = await offline('audit', 'export', '--history', 'history.json', '-o', 'from-cli.json');
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);

    const verified = await offline('audit', 'verify', 'pack.json', 'from-cli.json');
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/^PASS .*pack\.json/m);
    expect(verified.stdout).toMatch(/^PASS .*from-cli\.json/m);
    // The walkthrough's trust root: the plane's configuration and the directory versions its data dir keeps.
    expect(verified.stdout).toMatch(/^trust root: plane configuration .*ecp\.yaml \+ \d+ kept directory version/m);
    expect(verified.stdout).toMatch(/^PASS .*pack\.json .*against the plane's configuration \+ kept directory versions/m);
    expect(verified.code).toBe(0);
  });

  it('history works offline from the temporal CLI file', async () => {
    const { code, stdout } = await offline('history', '--history', 'history.json');
    expect(code).toBe(0);
    expect(stdout).toContain('outcome: SUCCEEDED');
  });

  it('a tampered pack FAILs with exit code 7, naming the check', async () => {
    const pack = JSON.parse(readFileSync(join(scratch, 'pack.json'), 'utf8')) as EvidencePack;
    pack.parts.record.proposal.parameters.version = '3.0.1';
    writeFileSync(join(scratch, 'tampered.json'), JSON.stringify(pack));
    const { code, stdout } = await offline('audit', 'verify', 'tampered.json', '--no-replay');
    expect(stdout).toMatch(/^FAIL .*tampered\.json/m);
    expect(stdout).toMatch(/FAIL digest\.record: the record part hashes to/);
    expect(stdout).toMatch(/FAIL proposal\.hash/);
    expect(code).toBe(7);
  });

  it('a file that is not a pack is invalid input (exit 2), naming the field', async () => {
    const pack = JSON.parse(readFileSync(join(scratch, 'pack.json'), 'utf8')) as Record<string, unknown>;
    delete pack.digests;
    writeFileSync(join(scratch, 'broken.json'), JSON.stringify(pack));
    const { code, stdout } = await offline('audit', 'verify', 'broken.json');
    expect(stdout).toMatch(/INVALID broken\.json: .*field "digests"/);
    expect(code).toBe(2);
    const json = await offline('audit', 'verify', 'broken.json', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual([
      { file: 'broken.json', ok: false, invalid: expect.stringContaining('field "digests"') as string },
    ]);
  });

  it('refuses to export an unknown attempt (exit 4)', async () => {
    const { code, stderr } = await ecp(['audit', 'export', 'att-00000000000000000000000000000000']);
    expect(stderr).toContain('no attempt att-00000000000000000000000000000000');
    expect(code).toBe(4);
  });
});
