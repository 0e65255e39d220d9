/**
 * `ecp audit verify` against a trust root outside the pack. The attack: a second plane whose directory holds the
 * forger's keys for the same humans produces a pack for the same attempt (same attempt ID, same proposal hash) with
 * the opposite outcome, "approved by bob and erin"; it is internally consistent, so only a trust root outside the pack
 * — the real plane's configuration and kept directory versions, or a keys file the auditor supplies — can fail it.
 * The real plane runs as operators run it (`runPlane`), so the directory versions and code identity it keeps are real.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../audit/archive/archive';
import { verifyArchive } from '../../audit/archive/verify';
import { exportEvidencePack } from '../../audit/pack/export';
import { writePack } from '../../audit/pack/io';
import type { EvidencePack } from '../../audit/pack/schema';
import { planeTrustRoot, trustRootFromFile, TRUST_FILE_FORMAT, type TrustRoot } from '../../audit/pack/trust';
import { verifyPack } from '../../audit/pack/verify';
import { localWorkflowBundleDigest } from '../../audit/replay/replay';
import { loadCodeIdentities, loadDirectoryVersions } from '../../audit/trustStore';
import { publicKeyHex } from '../../client/keys';
import type { AttemptRecord, ProposalInput } from '../../common';
import { keyFingerprint } from '../../common/statement';
import { loadPlaneConfig } from '../../config/load';
import { runPlane, type RunningPlane } from '../../worker/plane-process';
import { deploy, waitForStatus } from '../helpers/attempts';
import { runEcp } from '../helpers/cli';
import { startTestPlane, type TestPlane } from '../helpers/plane';
import { SCENARIOS } from '../replay/scenarios';
import { clone, failedChecks, recordOf, redigestRecord, reseal } from './helpers';

let forger: TestPlane;
let real: TestPlane;
let running: RunningPlane;
let scratch: string;
/** The proposal both planes get: same agent and idempotency key ⇒ same attempt ID and proposal hash. */
let proposal: ProposalInput;
let realPack: EvidencePack;
let forgedPack: EvidencePack;
let approvedPack: EvidencePack;
let trustFile: string;

const planeTrust = (): TrustRoot => planeTrustRoot(loadPlaneConfig(real.configPath), real.dataDir);
const detailOf = (v: { checks: { name: string; detail: string }[] }, name: string) => v.checks.find((c) => c.name === name)?.detail ?? '';

beforeAll(async () => {
  // The forger first: the test planes share DEMO_TARGET_* in process.env, and the last one started owns them.
  forger = await startTestPlane();
  real = await startTestPlane();
  scratch = mkdtempSync(join(tmpdir(), 'ecp-trust-'));
  // Run the real plane as `npm start` does (runPlane keeps directory versions and code identities in its data dir),
  // in place of the test worker, against the test plane's dev server.
  await real.stopWorker();
  const previous = process.env.TEMPORAL_ADDRESS;
  process.env.TEMPORAL_ADDRESS = real.address;
  try {
    running = await runPlane({
      configPath: real.configPath,
      dataDir: real.dataDir,
      archive: { enabled: false, dir: join(real.dataDir, 'archive'), intervalSeconds: 30 },
      log: () => {},
    });
  } finally {
    if (previous === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = previous;
  }

  proposal = deploy('production', 'checkout', '3.9.0');
  // The real plane: bob rejects.
  const genuine = await real.ecp.propose(proposal);
  await waitForStatus(real.ecp, genuine.attemptId, 'AWAITING_DECISION');
  await real.ecp.decide(genuine.attemptId, {
    human: 'bob',
    verdict: 'reject',
    reason: 'not during the freeze',
    privateKey: real.key('bob'),
  });
  await real.ecp.awaitOutcome(genuine.attemptId);
  realPack = await exportEvidencePack(real.ecp, genuine.attemptId);
  // The forger's plane, with its own keys for bob and erin: "approved".
  const forged = await forger.ecp.propose(proposal);
  await waitForStatus(forger.ecp, forged.attemptId, 'AWAITING_DECISION');
  for (const human of ['bob', 'erin'])
    await forger.ecp.decide(forged.attemptId, { human, verdict: 'approve', privateKey: forger.key(human) });
  await forger.ecp.awaitOutcome(forged.attemptId);
  forgedPack = await exportEvidencePack(forger.ecp, forged.attemptId);
  approvedPack = await exportEvidencePack(real.ecp, await SCENARIOS['succeeded-quorum']!(real));

  // What an auditor writes down from the real directory: each human's keys and groups, each agent's owner.
  const { directory } = loadPlaneConfig(real.configPath);
  trustFile = join(scratch, 'trust.json');
  writeFileSync(
    trustFile,
    JSON.stringify({
      format: TRUST_FILE_FORMAT,
      humans: Object.fromEntries(Object.entries(directory.humans).map(([id, h]) => [id, { groups: h.groups, publicKeys: h.publicKeys }])),
      agents: Object.fromEntries(Object.entries(directory.agents).map(([id, a]) => [id, { owner: a.owner }])),
    }),
  );
  writePack(join(scratch, 'real.json'), realPack);
  writePack(join(scratch, 'forged.json'), forgedPack);
  writePack(join(scratch, 'approved.json'), approvedPack);
}, 240_000);

afterAll(async () => {
  await running?.shutdown();
  await real?.teardown();
  await forger?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the wholesale forgery', () => {
  it('is the same attempt with the opposite outcome, and is internally consistent (why a trust root is needed)', async () => {
    expect(forgedPack.attemptId).toBe(realPack.attemptId);
    expect(recordOf(forgedPack).proposalHash).toBe(recordOf(realPack).proposalHash);
    expect(recordOf(realPack).status).toBe('REJECTED');
    expect(recordOf(forgedPack).status).toBe('SUCCEEDED');
    expect(recordOf(forgedPack).decisions.accepted.map((d) => `${d.human} ${d.verdict}`)).toEqual(['bob approve', 'erin approve']);
    const unanchored = await verifyPack(forgedPack, { replay: false });
    expect(failedChecks(unanchored)).toEqual([]);
    // Consistent is all it is: never a PASS without a trust root.
    expect(unanchored.verdict).toBe('CONSISTENT');
    expect(unanchored.trustRoot).toBeNull();
    expect(unanchored.checks.find((c) => c.name === 'trust')).toMatchObject({ ok: false, advisory: true });
  });

  it("FAILs against the real plane's trust root, naming the untrusted directory version and the foreign key", async () => {
    const v = await verifyPack(forgedPack, { replay: false, trust: planeTrust() });
    expect(v.verdict).toBe('FAIL');
    expect(failedChecks(v)).toEqual(['trust.directory']);
    const detail = detailOf(v, 'trust.directory');
    expect(detail).toMatch(
      new RegExp(
        `^directory_untrusted: directory version ${forgedPack.parts.directory.version} is not a trusted directory version \\(plane configuration `,
      ),
    );
    const forgedBobKey = forgedPack.parts.directory.humans.bob!.publicKeys[0]!;
    expect(detail).toContain(
      `human "bob" key ${keyFingerprint(forgedBobKey)} is not registered to bob in the plane's current directory version`,
    );
    expect(v.trustRoot).toMatchObject({ kind: 'plane' });
  });

  it('FAILs too when the forger claims the real directory version, naming the key against that version', async () => {
    const pack = clone(forgedPack);
    const realVersion = realPack.parts.directory.version;
    pack.parts.directory.version = realVersion;
    const record = recordOf(pack) as AttemptRecord;
    record.context!.directory.version = realVersion;
    redigestRecord(record);
    const v = await verifyPack(reseal(pack), { replay: false, trust: planeTrust() });
    expect(v.verdict).toBe('FAIL');
    expect(failedChecks(v)).toContain('trust.directory');
    expect(detailOf(v, 'trust.directory')).toContain(
      `human "bob" key ${keyFingerprint(pack.parts.directory.humans.bob!.publicKeys[0]!)} is not registered to bob in trusted directory version ${realVersion}`,
    );
  });

  it('FAILs against an auditor-supplied keys file, naming the key', async () => {
    const v = await verifyPack(forgedPack, { replay: false, trust: trustRootFromFile(trustFile) });
    expect(v.verdict).toBe('FAIL');
    expect(failedChecks(v)).toEqual(['trust.directory']);
    expect(detailOf(v, 'trust.directory')).toContain(
      `human "bob" key ${recordOf(forgedPack).decisions.accepted[0]!.keyFingerprint} is not registered to bob in trust file ${trustFile}`,
    );
    expect(v.trustRoot).toMatchObject({ kind: 'file', source: `trust file ${trustFile}` });
  });

  it('a group or owner that exists only in the pack FAILs against the keys file', async () => {
    const pack = clone(approvedPack);
    const record = recordOf(pack) as AttemptRecord;
    // Claim dave (the agent's owner) owns nothing: the pack's slice says carol owns deploy-bot.
    pack.parts.directory.agent!.owner = 'carol';
    record.context!.directory.agent!.owner = 'carol';
    redigestRecord(record);
    const v = await verifyPack(reseal(pack), { replay: false, trust: trustRootFromFile(trustFile) });
    expect(detailOf(v, 'trust.directory')).toContain(
      `agent "deploy-bot" is owned by "carol" in the pack but by "dave" in trust file ${trustFile}`,
    );
  });
});

describe('genuine packs', () => {
  it.each(['real', 'approved'] as const)("%s: PASS against the plane's trust root and against the keys file", async (which) => {
    const pack = which === 'real' ? realPack : approvedPack;
    const plane = await verifyPack(pack, { trust: planeTrust() });
    expect(failedChecks(plane)).toEqual([]);
    expect(plane.verdict).toBe('PASS');
    expect(plane.checks.find((c) => c.name === 'trust.directory')?.detail).toMatch(/is exactly as in trusted directory version/);
    const file = await verifyPack(pack, { replay: false, trust: trustRootFromFile(trustFile) });
    expect(failedChecks(file)).toEqual([]);
    expect(file.verdict).toBe('PASS');
  });

  it('the plane kept its directory version and code identity in its data dir', async () => {
    const config = loadPlaneConfig(real.configPath);
    expect([...loadDirectoryVersions(real.dataDir).keys()]).toContain(config.directoryVersion);
    expect([...loadCodeIdentities(real.dataDir)]).toContain(await localWorkflowBundleDigest());
  });
});

describe('code identity', () => {
  /** A pack whose history names workflow code nobody trusts (digests recomputed, as a forger would). */
  function withForeignCode(pack: EvidencePack, digestHex: string): EvidencePack {
    const out = clone(pack);
    const buildId = `ecp@9.9.9+${digestHex}`;
    for (const e of out.parts.history.events as Array<{
      workflowTaskCompletedEventAttributes?: { workerVersion?: { buildId?: string } };
    }>) {
      const v = e.workflowTaskCompletedEventAttributes?.workerVersion;
      if (v?.buildId) v.buildId = buildId;
    }
    out.parts.code = { ...out.parts.code, buildIds: [buildId], workflowBundleDigest: `sha256:${digestHex}` };
    return reseal(out);
  }

  it('an unknown code identity FAILs, naming it; a trust file that lists it trusts it', async () => {
    const hex = 'ab'.repeat(32);
    const pack = withForeignCode(approvedPack, hex);
    const v = await verifyPack(pack, { replay: false, trust: planeTrust() });
    expect(failedChecks(v)).toEqual(['trust.code']);
    expect(detailOf(v, 'trust.code')).toMatch(
      new RegExp(
        `^code_untrusted: workflow code sha256:${hex} \\(build ID "ecp@9\\.9\\.9\\+${hex}"\\) is neither a code identity of the trust root`,
      ),
    );
    const file = join(scratch, 'trust-code.yaml');
    const { directory } = loadPlaneConfig(real.configPath);
    writeFileSync(
      file,
      `format: ${TRUST_FILE_FORMAT}\ndirectories:\n  - ${JSON.stringify(directory)}\ncode:\n  workflowBundleDigests: ["sha256:${hex}"]\n`,
    );
    const trusted = await verifyPack(pack, { replay: false, trust: trustRootFromFile(file) });
    expect(failedChecks(trusted)).toEqual([]);
    expect(trusted.verdict).toBe('PASS');
  });

  it('a trust file that is not valid names the field and the reason', () => {
    const file = join(scratch, 'bad-trust.json');
    writeFileSync(file, JSON.stringify({ format: TRUST_FILE_FORMAT, humans: { bob: { groups: ['sre'], publicKeys: ['not-a-key'] } } }));
    expect(() => trustRootFromFile(file)).toThrow(/field "humans\.bob\.publicKeys\[0\]" must be an Ed25519 public key/);
    writeFileSync(file, JSON.stringify({ humans: {} }));
    expect(() => trustRootFromFile(file)).toThrow(/field "format" must be "ecp\.trust\.v1"/);
  });
});

describe('ecp audit verify (CLI)', () => {
  const offline = (args: string[], env: Record<string, string> = {}) =>
    runEcp(real, args, { cwd: scratch, env: { TEMPORAL_ADDRESS: '127.0.0.1:1', ...env }, timeoutMs: 120_000 });

  it("with the plane's configuration: genuine PASS (exit 0), forged FAIL (exit 7), each saying which trust root", async () => {
    const genuine = await offline(['audit', 'verify', 'real.json', 'approved.json', '--no-replay']);
    expect(genuine.stdout).toMatch(/^trust root: plane configuration .*kept directory version/m);
    expect(genuine.stdout).toMatch(/^PASS real\.json .*against the plane's configuration \+ kept directory versions/m);
    expect(genuine.code).toBe(0);
    const forged = await offline(['audit', 'verify', 'forged.json', '--no-replay']);
    expect(forged.stdout).toMatch(/^FAIL forged\.json/m);
    expect(forged.stdout).toMatch(
      /FAIL trust\.directory: directory_untrusted: directory version sha256:[0-9a-f]{64} is not a trusted directory version/,
    );
    expect(forged.code).toBe(7);
  });

  it('with --trust <file>: forged FAIL, genuine PASS; --json carries the trust root', async () => {
    const forged = await offline(['audit', 'verify', 'forged.json', '--no-replay', '--trust', 'trust.json']);
    expect(forged.stdout).toMatch(/human "bob" key [0-9a-f]+ is not registered to bob in trust file/);
    expect(forged.code).toBe(7);
    const genuine = await offline(['audit', 'verify', 'real.json', '--no-replay', '--trust', 'trust.json', '--json']);
    expect(genuine.code, genuine.stdout + genuine.stderr).toBe(0);
    const [report] = JSON.parse(genuine.stdout) as Array<{ verdict: string; trustRoot: { kind: string; source: string } }>;
    expect(report).toMatchObject({ verdict: 'PASS', trustRoot: { kind: 'file', source: expect.stringContaining('trust.json') as string } });
  });

  it('without any trust root: CONSISTENT — NOT VERIFIED, never a plain PASS, exit 8 (packs and archive)', async () => {
    const empty = join(scratch, 'no-plane');
    mkdirSync(empty, { recursive: true });
    const env = { ECP_CONFIG: '', ECP_DATA_DIR: empty };
    const plain = await offline(['audit', 'verify', 'forged.json', '--no-replay'], env);
    expect(plain.stdout).toMatch(/^CONSISTENT — NOT VERIFIED against a trust root forged\.json/m);
    expect(plain.stdout).not.toMatch(/^PASS/m);
    expect(plain.stderr).toMatch(/NO TRUST ROOT: only internal consistency was checked/);
    expect(plain.code).toBe(8);
    const json = await offline(['audit', 'verify', 'forged.json', '--no-replay', '--json'], env);
    expect(json.code).toBe(8);
    expect(JSON.parse(json.stdout)).toMatchObject([{ verdict: 'CONSISTENT', trustRoot: null }]);

    const archiveDir = join(scratch, 'archive');
    const archive = Archive.local(archiveDir);
    await archive.seal(realPack.attemptId, () => Promise.resolve(forgedPack));
    const arch = await offline(['audit', 'verify', '--archive', archiveDir, '--no-replay'], env);
    expect(arch.stdout).toMatch(/^CONSISTENT — NOT VERIFIED against a trust root archive/m);
    expect(arch.code).toBe(8);
    const archJson = await offline(['audit', 'verify', '--archive', archiveDir, '--no-replay', '--json'], env);
    expect(JSON.parse(archJson.stdout)).toMatchObject({ verdict: 'CONSISTENT', trustRoot: null });
    // The same archive against the real plane: the forged pack FAILs.
    const anchored = await offline(['audit', 'verify', '--archive', archiveDir, '--no-replay']);
    expect(anchored.stdout).toMatch(/^FAIL archive/m);
    expect(anchored.stdout).toMatch(/pack_invalid .*trust\.directory: directory_untrusted/);
    expect(anchored.code).toBe(7);
  });
});

describe('the archive', () => {
  it('PASSes with genuine packs against the plane, FAILs a forged one naming it', async () => {
    const dir = join(scratch, 'archive-genuine');
    const archive = Archive.local(dir);
    await archive.seal(approvedPack.attemptId, () => Promise.resolve(approvedPack));
    const ok = await verifyArchive(dir, { replay: false, trust: planeTrust() });
    expect(ok.problems).toEqual([]);
    expect(ok).toMatchObject({ ok: true, verdict: 'PASS', trustRoot: { kind: 'plane' } });
    expect((await verifyArchive(dir, { replay: false })).verdict).toBe('CONSISTENT');
    await archive.seal(forgedPack.attemptId, () => Promise.resolve(forgedPack));
    const bad = await verifyArchive(dir, { replay: false, trust: planeTrust() });
    expect(bad.verdict).toBe('FAIL');
    expect(bad.problems).toEqual([
      expect.objectContaining({
        kind: 'pack_invalid',
        attemptId: forgedPack.attemptId,
        message: expect.stringContaining('directory_untrusted') as string,
      }),
    ]);
  });
});

// Last: it rotates bob's key in the real plane.
describe('a directory changed after the attempt', () => {
  it("an old pack still PASSes via the kept directory version after bob's key is rotated; without the kept versions it FAILs", async () => {
    const before = running.runtime.config.directoryVersion;
    const rotated = publicKeyHex(generateKeyPairSync('ed25519').privateKey);
    real.editDirectory((d) => {
      d.humans.bob!.publicKeys = [rotated];
    });
    process.emit('SIGHUP');
    expect(running.runtime.config.directoryVersion).not.toBe(before);
    expect(loadDirectoryVersions(real.dataDir).size).toBe(2);
    const trust = planeTrust();
    expect(trust.current).not.toBe(approvedPack.parts.directory.version);
    const v = await verifyPack(approvedPack, { replay: false, trust });
    expect(failedChecks(v)).toEqual([]);
    expect(v.verdict).toBe('PASS');
    expect(detailOf(v, 'trust.directory')).toContain(`trusted directory version ${before}`);

    // The kept version is what makes it verifiable: a data dir without it has only the current directory.
    const bare = mkdtempSync(join(tmpdir(), 'ecp-trust-bare-'));
    try {
      const unkept = await verifyPack(approvedPack, { replay: false, trust: planeTrustRoot(loadPlaneConfig(real.configPath), bare) });
      expect(unkept.verdict).toBe('FAIL');
      expect(detailOf(unkept, 'trust.directory')).toContain(
        `human "bob" key ${keyFingerprint(approvedPack.parts.directory.humans.bob!.publicKeys[0]!)} is not registered to bob in the plane's current directory version`,
      );
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
