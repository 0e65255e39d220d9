import type { DataConverter } from '@temporalio/common';
import { canonicalJson } from '../../common/canonical';
import { attemptIdFor, parseProposal, proposalHash } from '../../common/proposal';
import { parseRecord, type AttemptRecord } from '../../common/record';
import { bundleDigestFromBuildId, EVENT, eventsOf, historyBuildIds, historyWorkflowId } from '../history';
import { decodeFailure, decodeFirst, loadedConverter } from '../payloads';
import { localWorkflowBundleDigest, replayForResults, type ReplayOutcome } from '../replay/replay';
import { adviceFromInputs, adviceInputs } from '../../policy/attemptAdvice';
import { bundleFromPack, policyPartVersion } from './policy';
import { canonicalDigest } from './verifyDigests';
import { firstDifference } from './firstDifference';
import { packDigestOf } from './seal';
import { verifyPacksInThreads, verifyThreadCount } from './verifyThreads';
import { PACK_PARTS, type EvidencePack, type PackPolicyBundle } from './schema';
import { authorityCheck, decisionChecks, overrideChecks, recordDigestCheck, type CheckResult } from './verifyAuthority';
import { summarizeTrustRoot, trustCodeCheck, trustDirectoryCheck, type TrustRoot, type TrustRootSummary } from './trust';

export type { CheckResult, TrustRoot, TrustRootSummary };

/**
 * `PASS`: every check passed, including the trust checks against a trust root outside the pack. `FAIL`: a check
 * failed. `CONSISTENT`: no trust root was given and every other check passed — the pack agrees with itself, which a
 * forger who controls the whole pack can achieve; it is NOT verified.
 */
export type PackVerdict = 'PASS' | 'FAIL' | 'CONSISTENT';

export interface PackVerification {
  /**
   * No non-advisory check failed. Without a trust root this means internally consistent only: read `verdict`, which
   * is `PASS` only against a trust root.
   */
  ok: boolean;
  verdict: PackVerdict;
  /** The trust root the pack was verified against, or null (then `verdict` is at best `CONSISTENT`). */
  trustRoot: TrustRootSummary | null;
  attemptId: string;
  checks: CheckResult[];
}

/** The verdict from the checks and whether a trust root was used. */
export function verdictOf(checks: CheckResult[], trusted: boolean): PackVerdict {
  if (!checks.every((c) => c.ok || c.advisory)) return 'FAIL';
  return trusted ? 'PASS' : 'CONSISTENT';
}

export interface VerifyOptions {
  /** Needed only when the plane encrypts payloads: the same codec, to read history payloads and replay. */
  dataConverter?: DataConverter;
  /**
   * Replay the history against the local workflow code (default true). `false` is for fast bulk checks: the replay
   * check is then reported as skipped (advisory), so the record is not shown to follow from the history.
   */
  replay?: boolean;
  /**
   * The trust root from outside the pack (`planeTrustRoot` / `trustRootFromFile`): the pinned directory slice and the
   * code identity must be in it. Without one, verification only shows the pack is internally consistent.
   */
  trust?: TrustRoot | null;
  /**
   * Verification threads for a batch (default: `ECP_VERIFY_THREADS`, else one per core); 0 or 1 verifies in this
   * thread. Ignored below `VERIFY_THREAD_MIN_BATCH` packs and with a `dataConverter`.
   */
  threads?: number;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string): CheckResult => ({ name, ok: false, detail });

/**
 * Verifies an evidence pack offline — no Temporal server, no configuration: every digest, the record against the
 * history and its start input, each accepted decision's signature against the pinned directory, separation of duties
 * and quorum, the policy texts against the pinned bundle version and the recorded advice, and a replay of the history
 * against the locally installed workflow code whose result must equal the record; with `options.trust`, the pinned
 * directory slice and the code identity against that trust root outside the pack. `verdict` is `PASS` only when every
 * non-advisory check passes against a trust root (`CONSISTENT` without one). Never throws for a bad pack: a broken
 * part is a failed check naming it.
 */
export async function verifyPack(pack: EvidencePack, options: VerifyOptions = {}): Promise<PackVerification> {
  const [result] = await verifyPacks([pack], options);
  return result!;
}

/**
 * `verifyPack` for many packs. A batch of at least `VERIFY_THREAD_MIN_BATCH` packs without a data converter is split
 * across verification threads (one per core, `ECP_VERIFY_THREADS` or `options.threads` overrides; see
 * verifyThreads.ts), each running exactly this function's in-process path on its share; smaller batches and
 * encrypted histories (a codec cannot cross threads) verify in this thread. Results are in the packs' order; every
 * pack gets exactly the checks `verifyPack` gives it, on either path. Never throws for a bad pack; pure, so a retry
 * repeats the same result.
 */
export async function verifyPacks(packs: EvidencePack[], options: VerifyOptions = {}): Promise<PackVerification[]> {
  const threads = verifyThreadCount(packs.length, options);
  if (threads > 1)
    return verifyPacksInThreads<PackVerification>(packs, { replay: options.replay, trust: options.trust ?? null }, threads, (share) =>
      verifyPacksInProcess(share, options),
    );
  return verifyPacksInProcess(packs, options);
}

/**
 * `verifyPacks` in this thread: the histories are replayed in one batch (one replay worker for all of them instead
 * of one per pack), and the other checks run while the replay worker waits on the SDK core.
 */
export async function verifyPacksInProcess(packs: EvidencePack[], options: VerifyOptions = {}): Promise<PackVerification[]> {
  const replaying: Promise<Array<ReplayOutcome | null>> =
    options.replay === false
      ? Promise.resolve(packs.map(() => null))
      : replayForResults(
          packs.map((p) => ({ history: p.parts.history, workflowId: p.attemptId })),
          { dataConverter: options.dataConverter },
        ).catch((err: Error) => packs.map(() => ({ ok: false as const, error: err.message })));
  const out: PackVerification[] = [];
  const recordTexts: string[] = [];
  for (const pack of packs) {
    const { verification, recordText } = await checkPack(pack, options);
    out.push(verification);
    recordTexts.push(recordText);
  }
  const replays = await replaying;
  for (const [i, verification] of out.entries()) {
    const check = replayCheck(replays[i] ?? null, recordTexts[i]!);
    verification.checks.push(check);
    verification.ok = verification.checks.every((c) => c.ok || c.advisory);
    verification.verdict = verdictOf(verification.checks, Boolean(options.trust));
  }
  return out;
}

/** Whether replaying the history yields exactly the record (compared as canonical JSON text). */
function replayCheck(replayed: ReplayOutcome | null, recordText: string): CheckResult {
  if (!replayed) return { ...fail('replay', 'skipped: the record is not shown to follow from the history'), advisory: true };
  if (!replayed.ok) return fail('replay', `replaying the history against the local workflow code failed: ${replayed.error}`);
  let text: string | undefined;
  try {
    text = canonicalJson(replayed.result);
  } catch (err) {
    return fail('replay', `the replayed result is not JSON: ${(err as Error).message}`);
  }
  if (text === recordText) return pass('replay', 'replaying the history against the local workflow code yields exactly this record');
  // The digest differs whenever anything else does: name what it covers first.
  const [packRecord, replay] = [JSON.parse(recordText), JSON.parse(text)] as Array<Record<string, unknown>>;
  const where = firstDifference({ ...packRecord, digest: null }, { ...replay, digest: null }) ?? firstDifference(packRecord, replay);
  return fail(
    'replay',
    `replaying the history yields a different record than the one in the pack${where ? ` (first difference: ${where})` : ''}`,
  );
}

/** Every check but the replay; also returns the record's canonical text (computed once, compared several times). */
async function checkPack(pack: EvidencePack, options: VerifyOptions): Promise<{ verification: PackVerification; recordText: string }> {
  const checks: CheckResult[] = [];
  const run = async (name: string, body: () => CheckResult | CheckResult[] | Promise<CheckResult | CheckResult[]>) => {
    try {
      const out = await body();
      checks.push(...(Array.isArray(out) ? out : [out]));
    } catch (err) {
      checks.push(fail(name, (err as Error).message));
    }
  };
  const { parts } = pack;
  const { record, directory } = parts;
  const converter = loadedConverter(options.dataConverter);
  const events = eventsOf(parts.history);

  // Each part is canonicalised once: its digest, and the text later comparisons use.
  const texts = {} as Record<(typeof PACK_PARTS)[number], string>;
  for (const part of PACK_PARTS) {
    const { text, digest: computed } = canonicalDigest(parts[part]);
    texts[part] = text;
    checks.push(
      computed === pack.digests[part]
        ? pass(`digest.${part}`, computed)
        : fail(`digest.${part}`, `the ${part} part hashes to ${computed}, the pack says ${pack.digests[part]}`),
    );
  }
  const packDigest = packDigestOf(pack);
  checks.push(
    packDigest === pack.packDigest
      ? pass('digest.pack', packDigest)
      : fail('digest.pack', `the pack hashes to ${packDigest}, it says ${pack.packDigest}`),
  );

  // A pack read with parsePack already fits; one built or edited in memory may not, and every check below reads it.
  await run('record.schema', () => recordSchemaCheck(record));
  await run('record.digest', () => recordDigestCheck(record));
  await run('record.attempt', () => {
    const fromHistory = historyWorkflowId(parts.history);
    if (record.attemptId !== pack.attemptId)
      return fail('record.attempt', `the record is of ${record.attemptId}, the pack of ${pack.attemptId}`);
    if (fromHistory !== undefined && fromHistory !== pack.attemptId)
      return fail('record.attempt', `the history is of workflow ${fromHistory}, the pack of ${pack.attemptId}`);
    return pass('record.attempt', `record, history and pack name attempt ${pack.attemptId}`);
  });
  await run('record.history', async () => {
    const last = events.at(-1);
    if (last?.eventType !== EVENT.completed)
      return fail('record.history', `the history does not end with the workflow's completion (last event: ${last?.eventType ?? 'none'})`);
    let result: unknown;
    try {
      result = await decodeFirst(last.workflowExecutionCompletedEventAttributes?.result, converter);
    } catch (err) {
      return fail('record.history', decodeFailure(err));
    }
    return canonicalJson(result) === texts.record
      ? pass('record.history', 'the record equals the completion result in history')
      : fail('record.history', 'the record differs from the completion result in history');
  });
  await run('proposal.hash', async () => {
    let input: { proposal?: unknown };
    try {
      input = await decodeFirst(events[0]?.workflowExecutionStartedEventAttributes?.input, converter);
    } catch (err) {
      return fail('proposal.hash', `start input: ${decodeFailure(err)}`);
    }
    const proposal = parseProposal(input?.proposal);
    const hash = proposalHash(proposal);
    if (hash !== record.proposalHash)
      return fail('proposal.hash', `the proposal in history's start input hashes to ${hash}, the record says ${record.proposalHash}`);
    if (!same(proposal, record.proposal))
      return fail('proposal.hash', "the record's proposal differs from the one in history's start input");
    const derived = attemptIdFor(proposal.agent, proposal.idempotencyKey);
    if (derived !== pack.attemptId) return fail('proposal.hash', `the proposal derives attempt ID ${derived}, not ${pack.attemptId}`);
    return pass('proposal.hash', `${hash} recomputes from the start input`);
  });
  await run('directory.pinned', () => {
    const pinned = record.context?.directory ?? { version: '', agent: null, humans: {} };
    return canonicalJson(pinned) === texts.directory
      ? pass('directory.pinned', `the directory part is the one the record pins (version ${directory.version || 'none'})`)
      : fail('directory.pinned', 'the directory part differs from the directory the record pins');
  });
  await run('decisions', () => decisionChecks(record, pack.attemptId, directory));
  await run('authority (separation of duties, quorum)', () => authorityCheck(record, directory, parts.history));
  await run('overrides', () => overrideChecks(record));
  // The texts' version, hashed once for both policy checks (inside them, so a failure is a failed check).
  let policyVersion: string | undefined;
  const versionOf = (part: PackPolicyBundle) => (policyVersion ??= policyPartVersion(part));
  await run('policy.version', () => policyVersionCheck(pack, record, versionOf));
  await run('policy.advice', () => policyAdviceCheck(pack, record, versionOf));
  await run('code.history', () => codeHistoryCheck(pack));
  await run('code.local', async () => {
    const local = await localWorkflowBundleDigest();
    const packed = parts.code.workflowBundleDigest;
    return local === packed
      ? { ...pass('code.local', `the local workflow code is the code that produced the history (${local})`), advisory: true }
      : {
          name: 'code.local',
          ok: false,
          advisory: true,
          detail: `the history was produced by workflow code ${packed ?? 'of unknown identity'}, replayed with local code ${local} (ECP ${parts.code.ecpVersion} packed it); the replay check says whether they agree on this attempt`,
        };
  });
  if (options.trust) {
    const trust = options.trust;
    await run('trust.directory', () => trustDirectoryCheck(pack, trust));
    await run('trust.code', async () => trustCodeCheck(pack, trust, await localWorkflowBundleDigest()));
  } else {
    checks.push({
      name: 'trust',
      ok: false,
      advisory: true,
      detail:
        "no trust root: only the pack's internal consistency was checked — its directory and code identity were taken from the pack itself, so a forged pack would look the same (give the plane's configuration or --trust <file>)",
    });
  }
  const trustRoot = options.trust ? summarizeTrustRoot(options.trust) : null;
  return {
    verification: {
      ok: checks.every((c) => c.ok || c.advisory),
      verdict: verdictOf(checks, Boolean(options.trust)),
      trustRoot,
      attemptId: pack.attemptId,
      checks,
    },
    recordText: texts.record,
  };
}

/** `record.schema`: the record part fits the record schema (common/record.ts), or the first field that does not. */
function recordSchemaCheck(record: unknown): CheckResult {
  try {
    parseRecord(record, 'record');
  } catch (err) {
    return fail('record.schema', (err as Error).message);
  }
  return pass('record.schema', 'the record fits the ecp.record.v1 schema');
}

type VersionOf = (part: PackPolicyBundle) => string;

function policyVersionCheck(pack: EvidencePack, record: AttemptRecord, versionOf: VersionOf): CheckResult {
  const part = pack.parts.policyBundle;
  const pinned = record.advice?.bundleVersion ?? record.context?.bundleVersion ?? null;
  if (!part)
    return pinned
      ? fail('policy.version', `the record pins bundle ${pinned} but the pack holds no policy bundle`)
      : pass('policy.version', 'the attempt pinned no policy bundle (closed before evaluation)');
  const computed = versionOf(part);
  if (computed !== part.version)
    return fail('policy.version', `the policy texts hash to ${computed}, not to the version ${part.version} they claim`);
  if (part.version !== pinned) return fail('policy.version', `the pack's bundle is ${part.version}, the record pins ${pinned}`);
  return pass('policy.version', `the policy texts hash to ${computed}, the version pinned in history`);
}

function policyAdviceCheck(pack: EvidencePack, record: AttemptRecord, versionOf: VersionOf): CheckResult {
  const part = pack.parts.policyBundle;
  if (!part || !record.advice || !record.context) return pass('policy.advice', 'no advice to re-derive');
  if (versionOf(part) !== part.version || part.version !== record.advice.bundleVersion) {
    return fail('policy.advice', 'cannot re-derive the advice: the policy texts are not those of the recorded advice');
  }
  const bundle = bundleFromPack(part);
  const inputs = adviceInputs(record.proposal, record.context);
  const advice = adviceFromInputs(bundle, inputs);
  if (!same(advice, record.advice))
    return fail(
      'policy.advice',
      `re-evaluating the pinned facts gives ${advice.verdict} (${advice.policyIds.join(', ') || '—'}), the record says ${record.advice.verdict} (${record.advice.policyIds.join(', ') || '—'})`,
    );
  const e = record.enforcement;
  if (e?.recheckAdvice && e.recheckContext && e.recheckAdvice.bundleVersion === part.version) {
    // The re-check usually saw the same facts: equal inputs give equal advice, so Cedar runs once for both.
    const recheckInputs = adviceInputs(record.proposal, e.recheckContext);
    const recheck = same(recheckInputs, inputs) ? advice : adviceFromInputs(bundle, recheckInputs);
    if (!same(recheck, e.recheckAdvice))
      return fail('policy.advice', `re-evaluating the re-check facts gives ${recheck.verdict}, the record says ${e.recheckAdvice.verdict}`);
  }
  return pass(
    'policy.advice',
    `re-evaluating the policies on the pinned facts gives the recorded advice: ${advice.verdict} (${advice.policyIds.join(', ') || '—'})`,
  );
}

function codeHistoryCheck(pack: EvidencePack): CheckResult {
  const { code, history } = pack.parts;
  const ids = historyBuildIds(history);
  if (!same(ids, code.buildIds))
    return fail(
      'code.history',
      `the pack names build IDs ${code.buildIds.join(', ') || 'none'}, the history records ${ids.join(', ') || 'none'}`,
    );
  const digest = ids.length > 0 ? bundleDigestFromBuildId(ids.at(-1)!) : null;
  if (digest !== code.workflowBundleDigest)
    return fail('code.history', `the pack names workflow code ${code.workflowBundleDigest}, the history's last build ID says ${digest}`);
  return pass('code.history', `the history records the workflow code identity ${ids.at(-1) ?? '(none)'}`);
}
