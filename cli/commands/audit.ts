import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { DataConverter } from '@temporalio/common';
import { EcpError } from '../../common/errors';
import type { EvidencePack } from '../../audit/pack/schema';
import type { PackVerification } from '../../audit/pack/verify';
import type { TrustRoot } from '../../audit/pack/trust';
import type { CliContext } from '../context';
import { EXIT, exitCodeForEcpError, type ExitCode } from '../exitCodes';
import { bold, dim, green, note, print, printJson, red, yellow } from '../format';
import { action, examples } from '../run';
import { registerAuditArchiveCommands } from './auditArchive';
import { archiveStoreFor, storesFor } from './auditSources';

/** `ecp audit …`: evidence packs (export, verify) plus the archive commands registered by auditArchive.ts. */
export function registerAuditCommands(program: Command): Command {
  const audit = program
    .command('audit')
    .description('evidence for auditors: export an attempt as an evidence pack, verify packs offline, the archive');
  registerExport(audit);
  registerVerify(audit);
  registerAuditArchiveCommands(audit);
  return audit;
}

/** The payload codec configured for this plane (ecp.yaml's payloadEncryption, else ECP_PAYLOAD_KEYS), if any. */
async function dataConverterOf(ctx: CliContext): Promise<DataConverter> {
  const { dataConverterFor } = await import('../../codec/dataConverter');
  const { payloadKeySourcesFromFile } = await import('../../config/payloadKeySources');
  return dataConverterFor(ctx.configPath ? payloadKeySourcesFromFile(ctx.configPath) : {});
}

function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EcpError('not_found', `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EcpError('invalid_input', `${what} ${path} is not JSON: ${(err as Error).message}`);
  }
}

interface ExportOptions {
  output?: string;
  history?: string;
}

function registerExport(audit: Command): void {
  audit
    .command('export')
    .description(
      'write the evidence pack of a closed attempt: record, full history (payloads as encoded), pinned directory, policy bundle, code identity, digests',
    )
    .argument('[attempt]', 'the attempt ID (optional with --history)')
    .option('-o, --output <file>', 'where to write the pack (default: <attempt>.ecp-pack.json)')
    .option(
      '--history <file>',
      'build the pack from a history file instead of Temporal: `temporal workflow show --output json -w <attempt>` output',
    )
    .addHelpText(
      'after',
      `${examples('ecp audit export att-0123456789abcdef0123456789abcdef', 'temporal workflow show -w att-… --output json > h.json && ecp audit export --history h.json')}

The policy texts come from the configured bundle or the versions the plane kept: <data-dir>/policy-bundles/, or the
shared store when ECP_STORE_URL is set (every version any worker has loaded).`,
    )
    .action(
      action<ExportOptions>(async (ctx, o, [attemptId]) => {
        const config = await ctx.optionalConfig();
        const { packPolicyBundle } = await import('../../audit/bundleStore');
        const policyBundles = config ? [packPolicyBundle(config.bundle)] : [];
        let pack: EvidencePack;
        if (o.history) {
          const { packFromHistoryJson } = await import('../../audit/pack/build');
          pack = await packFromHistoryJson(readJsonFile(o.history, 'history file'), {
            policyBundles,
            kept: (await storesFor(ctx)).kept,
            dataConverter: await dataConverterOf(ctx),
          });
          if (attemptId && attemptId !== pack.attemptId)
            throw new EcpError('invalid_input', `${o.history} is the history of ${pack.attemptId}, not ${attemptId}`, 'attempt');
        } else {
          if (!attemptId) throw new EcpError('invalid_input', 'name the attempt to export, or pass --history <file>', 'attempt');
          const { exportEvidencePack } = await import('../../audit/pack/export');
          pack = await exportEvidencePack(await ctx.client(), attemptId, { policyBundles, kept: (await storesFor(ctx)).kept });
        }
        const { packBytes, writePack } = await import('../../audit/pack/io');
        const file = resolve(o.output ?? `${pack.attemptId}.ecp-pack.json`);
        writePack(file, pack);
        print(
          `wrote ${file} (${packBytes(pack).length} bytes; ${pack.parts.history.events.length} history events; pack digest ${pack.packDigest})`,
        );
      }),
    );
}

interface VerifyOptions {
  archive?: string | true;
  trust?: string;
  checkpoint?: string;
  replay: boolean;
  json?: boolean;
  verbose?: boolean;
}

type PackReport = { file: string } & (PackVerification | { ok: false; invalid: string });

function registerVerify(audit: Command): void {
  audit
    .command('verify')
    .description(
      'verify evidence packs offline (no Temporal server): digests, signatures, quorum and separation of duties, policy, replay against the workflow code',
    )
    .argument('[packs...]', 'evidence pack files')
    .option(
      '--archive [dir|url]',
      "verify a whole evidence archive (hash chain + every pack) instead: a folder, a postgres:// URL, or (no value) the plane's: ECP_STORE_URL, else ECP_ARCHIVE_DIR, else <data-dir>/archive",
    )
    .option('--checkpoint <head>', 'with --archive: a head recorded earlier (<seq>:sha256:<hex>) that must still be there')
    .option(
      '--trust <file>',
      "verify against this trust file (ecp.trust.v1: humans' keys and groups, agents' owners, directories, code identities) instead of the plane's configuration",
    )
    .option('--no-replay', 'skip replaying histories (faster; the record is then not shown to follow from the history)')
    .option('-v, --verbose', 'list every check, not only the failed ones')
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `${examples('ecp audit verify att-….ecp-pack.json', 'ecp audit verify packs/*.json --json', 'ecp audit verify --archive .ecp-data/archive', 'ECP_STORE_URL=postgres://… ecp audit verify --archive')}

Trust root: the pack's own directory proves nothing against a forger, so every signing key, group, agent owner and
code identity must be in a trust root outside the pack: --trust <file>, else the plane's configuration (--config,
ECP_CONFIG or the demo's) with the directory versions and code identities the plane keeps in <data-dir>/directories/
and <data-dir>/code-identities/ (or in the shared store when ECP_STORE_URL is set). Without either, packs are only checked for consistency: CONSISTENT — NOT VERIFIED.

Exit codes: 0 every pack PASSes against a trust root, 7 a pack (or the archive) FAILs verification, 8 consistent
but NOT verified (no trust root), 2 a file is not a valid pack or the trust file is invalid.`,
    )
    .action(
      action<VerifyOptions>(async (ctx, o, args) => {
        const files = (args[0] as unknown as string[] | undefined) ?? [];
        if (o.archive) {
          if (files.length > 0) throw new EcpError('invalid_input', 'pass either pack files or --archive <dir>, not both');
          return verifyArchiveCommand(ctx, o);
        }
        if (files.length === 0) throw new EcpError('invalid_input', 'name at least one evidence pack file (or --archive <dir>)');
        return verifyFiles(ctx, files, o);
      }),
    );
}

/**
 * The trust root for verification: the auditor's --trust file, else the plane's configuration plus the directory
 * versions and code identities kept in the data dir, else none (the verdict is then at best CONSISTENT).
 */
async function trustRootOf(ctx: CliContext, o: VerifyOptions): Promise<TrustRoot | null> {
  const { planeTrustRootFrom, trustRootFromFile } = await import('../../audit/pack/trust');
  if (o.trust) return trustRootFromFile(resolve(o.trust));
  // The trust root reads the configuration's directory (and what the data dir kept), not its policies.
  const config = await ctx.optionalConfigWithoutPolicies();
  return config ? planeTrustRootFrom(config, (await storesFor(ctx)).kept) : null;
}

const NOT_VERIFIED = 'CONSISTENT — NOT VERIFIED against a trust root';

function printTrustRoot(trust: TrustRoot | null): void {
  if (trust) print(dim(`trust root: ${trust.source}`));
  else {
    note(
      yellow(
        `NO TRUST ROOT: only internal consistency was checked. The directory (keys, groups, owners) and code identity ` +
          `were taken from the pack itself, so a forged pack looks the same. Pass --trust <file>, or --config with the ` +
          `plane's configuration (its data dir keeps every directory version).`,
      ),
    );
  }
}

async function verifyFiles(ctx: CliContext, files: string[], o: VerifyOptions): Promise<ExitCode> {
  const { readPack } = await import('../../audit/pack/io');
  const { verifyPacks } = await import('../../audit/pack/verify');
  const { withoutWorkflowStackTraces } = await import('../../audit/replay/replay');
  // This process only verifies: a batch too small for verification threads replays here, and the SDK's per-promise
  // stack-trace hook (for a live worker's stack-trace query) would cost it ≈ 40 % of the replay CPU.
  await withoutWorkflowStackTraces();
  const dataConverter = await dataConverterOf(ctx);
  const trust = await trustRootOf(ctx, o);
  const reports: PackReport[] = [];
  const valid: Array<{ file: string; pack: EvidencePack; at: number }> = [];
  for (const file of files) {
    try {
      valid.push({ file, pack: readPack(file), at: reports.length });
      reports.push({ file, ok: false, invalid: 'not verified' });
    } catch (err) {
      if (!(err instanceof EcpError)) throw err;
      reports.push({ file, ok: false, invalid: err.message });
    }
  }
  // One batch: the histories replay on one replay worker.
  const results = await verifyPacks(
    valid.map((v) => v.pack),
    { dataConverter, replay: o.replay, trust },
  );
  valid.forEach((v, i) => (reports[v.at] = { file: v.file, ...results[i]! }));
  if (o.json) printJson(reports);
  else {
    printTrustRoot(trust);
    for (const r of reports) {
      if ('invalid' in r) print(`${red('INVALID')} ${r.file}: ${r.invalid}`);
      else printVerification(r.file, r, o.verbose);
    }
  }
  if (reports.some((r) => 'invalid' in r)) return EXIT.invalidInput;
  if (!reports.every((r) => r.ok)) return EXIT.verificationFailed;
  return trust ? EXIT.ok : EXIT.notVerified;
}

function printVerification(file: string, result: PackVerification, verbose = false): void {
  const failed = result.checks.filter((c) => !c.ok && !c.advisory);
  const notes = result.checks.filter((c) => !c.ok && c.advisory);
  const verdict = result.verdict === 'PASS' ? green('PASS') : result.verdict === 'FAIL' ? red('FAIL') : yellow(NOT_VERIFIED);
  const against = result.trustRoot
    ? `, against ${result.trustRoot.kind === 'plane' ? "the plane's configuration + kept directory versions" : result.trustRoot.source}`
    : '';
  print(`${verdict} ${file}  ${dim(`${result.attemptId}, ${result.checks.length} checks${against}`)}`);
  for (const c of verbose ? result.checks : failed) {
    const mark = c.ok ? green('ok  ') : c.advisory ? yellow('note') : red('FAIL');
    print(`  ${mark} ${bold(c.name)}: ${c.detail}`);
  }
  if (!verbose) for (const c of notes) print(`  ${yellow('note')} ${bold(c.name)}: ${c.detail}`);
}

async function verifyArchiveCommand(ctx: CliContext, o: VerifyOptions): Promise<ExitCode> {
  let verifyArchive: typeof import('../../audit/archive/verify').verifyArchive;
  try {
    ({ verifyArchive } = await import('../../audit/archive/verify'));
  } catch (err) {
    throw new EcpError('internal', `archive verification is not available in this build: ${(err as Error).message}`);
  }
  try {
    const trust = await trustRootOf(ctx, o);
    const explicit = typeof o.archive === 'string' ? o.archive : undefined;
    const store = await archiveStoreFor(ctx, explicit);
    const result = await verifyArchive(store.location, {
      store,
      replay: o.replay,
      checkpoint: o.checkpoint,
      dataConverter: await dataConverterOf(ctx),
      trust,
    });
    if (o.json) printJson(result);
    else {
      printTrustRoot(trust);
      const verdict = result.verdict === 'PASS' ? green('PASS') : result.verdict === 'FAIL' ? red('FAIL') : yellow(NOT_VERIFIED);
      print(
        `${verdict} archive ${result.location}  ${dim(`${result.entries} entries, ${result.packsVerified} packs checked${result.replayed ? '' : ' (no replay)'}${trust ? `, against ${trust.kind === 'plane' ? "the plane's configuration + kept directory versions" : trust.source}` : ''}`)}`,
      );
      for (const p of result.problems)
        print(`  ${red('FAIL')} ${p.kind}${p.seq !== null ? ` #${p.seq}` : ''}${p.attemptId ? ` ${p.attemptId}` : ''}: ${p.message}`);
      for (const n of result.notes) print(`  ${yellow('note')} ${n}`);
      if (result.head) note(dim(`head (record it as a checkpoint): ${result.head.seq}:${result.head.hash}`));
    }
    if (!result.ok) return EXIT.verificationFailed;
    return trust ? EXIT.ok : EXIT.notVerified;
  } catch (err) {
    if (err instanceof EcpError) {
      note(`ecp: ${err.message}`);
      return exitCodeForEcpError(err.code);
    }
    throw err;
  }
}
