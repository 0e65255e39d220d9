import type { Command } from 'commander';
import { EcpError } from '../../common/errors';
import { EXIT, exitCodeForEcpError, type ExitCode } from '../exitCodes';
import { dim, note, print, printJson, table } from '../format';
import { action, examples } from '../run';
import { registerAuditBacktest } from './auditBacktest';
import { registerAuditList } from './auditList';
import { archiveFor, optionalClient, storesFor } from './auditSources';

interface ArchiveOptions {
  archive?: string;
  allRetained?: boolean;
  json?: boolean;
}

/** `ecp audit archive`, `archive-status`, `backtest`, `list`: the auditor's archive commands, under `ecp audit`. */
export function registerAuditArchiveCommands(audit: Command): void {
  audit
    .command('archive')
    .description(
      "seal closed attempts' evidence packs into the archive now (the archiver workflow does this on its own for attempts that close while it runs)",
    )
    .argument('[attempt...]', 'attempt IDs to archive')
    .option('--all-retained', 'every closed attempt Temporal still retains (e.g. those closed before archiving was on)')
    .option(
      '--archive <dir|url>',
      'archive: a folder or a postgres:// URL (default: $ECP_STORE_URL, else $ECP_ARCHIVE_DIR, else <data-dir>/archive)',
    )
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ecp audit archive att-3f2a…', 'ecp audit archive --all-retained'))
    .action(
      action<ArchiveOptions>(async (ctx, o, [ids]) => {
        const attemptIds = (ids as unknown as string[] | undefined) ?? [];
        if (attemptIds.length === 0 && !o.allRetained)
          throw new EcpError('invalid_input', 'name attempts to archive, or pass --all-retained', 'attempt');
        const archive = await archiveFor(ctx, o.archive);
        const kept = (await storesFor(ctx)).kept; // the bundles every worker kept (shared store or data dir)
        // And the configured bundle, as `ecp audit export` offers it.
        const config = await ctx.optionalConfig();
        const { packPolicyBundle } = await import('../../audit/bundleStore');
        const policyBundles = config ? [packPolicyBundle(config.bundle)] : [];
        const ecp = await ctx.client();
        const { sealAttempt, listClosedAttempts, ExportFailed } = await import('../../audit/archive/sealer');
        const targets = [...attemptIds];
        if (o.allRetained)
          for (const c of await listClosedAttempts(ecp.client, null)) if (!targets.includes(c.attemptId)) targets.push(c.attemptId);
        const results: Array<{ attemptId: string; outcome: string; seq: number | null; object: string | null; error: string | null }> = [];
        let exit: ExitCode = EXIT.ok;
        for (const attemptId of targets) {
          try {
            const r = await sealAttempt(archive, ecp, attemptId, { dataDir: ctx.dataDir, kept, policyBundles });
            results.push({ attemptId, outcome: r.outcome, seq: r.entry.seq, object: r.entry.object.sha256, error: null });
          } catch (err) {
            // With --all-retained an attempt that has no record (terminated, invalid start) is reported, not fatal.
            const cause = err instanceof ExportFailed ? err.cause : err;
            const code = cause instanceof EcpError ? exitCodeForEcpError(cause.code) : EXIT.unexpected;
            const explicit = attemptIds.includes(attemptId);
            if (explicit && exit === EXIT.ok) exit = code;
            results.push({ attemptId, outcome: explicit ? 'failed' : 'skipped', seq: null, object: null, error: (err as Error).message });
          }
        }
        if (o.json) {
          printJson({ archive: archive.location, results });
          return exit;
        }
        if (results.length === 0) print('No closed attempts to archive.');
        else
          print(
            table(
              ['attempt', 'outcome', 'entry', 'pack object', 'note'],
              results.map((r) => [r.attemptId, r.outcome, r.seq ?? '—', r.object ? `${r.object.slice(0, 16)}…` : '—', r.error ?? '']),
            ),
          );
        const sealed = results.filter((r) => r.outcome === 'sealed').length;
        const already = results.filter((r) => r.outcome === 'already').length;
        print(`${sealed} sealed, ${already} already archived, ${results.length - sealed - already} not archived — ${archive.location}`);
        return exit;
      }),
    );

  audit
    .command('archive-status')
    .description(
      "the archive's size and head (record the head elsewhere: `ecp audit verify --archive <dir> --checkpoint <head>` then detects a cut-off tail), and the archiver workflow's progress",
    )
    .option(
      '--archive <dir|url>',
      'archive: a folder or a postgres:// URL (default: $ECP_STORE_URL, else $ECP_ARCHIVE_DIR, else <data-dir>/archive)',
    )
    .option('--offline', "do not ask Temporal for the archiver workflow's status")
    .option('--json', 'print JSON')
    .action(
      action<{ archive?: string; offline?: boolean; json?: boolean }>(async (ctx, o) => {
        const archive = await archiveFor(ctx, o.archive);
        const entries = await archive.entries();
        const size = await archive.store.sizeOnDisk();
        const head = entries.at(-1);
        const { ecp, notice } = await optionalClient(ctx, o.offline);
        let archiver: unknown = null;
        if (ecp) {
          const { archiverStatus } = await import('../../audit/archive/archiverControl');
          archiver = await archiverStatus(ecp.client).catch((err: Error) => ({ error: err.message }));
        }
        const status = {
          archive: archive.location,
          entries: entries.length,
          head: head
            ? { seq: head.seq, hash: head.hash, checkpoint: `${head.seq}:${head.hash}`, attemptId: head.attemptId, sealedAt: head.sealedAt }
            : null,
          bytesOnDisk: size,
          bytesPerAttempt: entries.length ? Math.round((size.objects + size.index) / entries.length) : null,
          archiver,
        };
        if (o.json) return printJson(status);
        if (notice) note(`ecp: ${notice}`);
        print(
          `Archive ${archive.location}: ${entries.length} sealed attempt(s), ${((size.objects + size.index) / 1024).toFixed(1)} KiB on disk${status.bytesPerAttempt ? ` (${(status.bytesPerAttempt / 1024).toFixed(1)} KiB per attempt)` : ''}`,
        );
        print(head ? `Head (checkpoint): ${status.head!.checkpoint}  ${dim(`sealed ${head.sealedAt}`)}` : 'Empty.');
        if (ecp) {
          const a = archiver as {
            watermark?: string | null;
            passes?: number;
            totals?: { sealed: number; skipped: number };
            lastFailed?: unknown[];
          } | null;
          print(
            a && 'passes' in a
              ? `Archiver workflow ecp-archiver: running, ${a.passes} pass(es), ${a.totals?.sealed ?? 0} sealed, watermark ${a.watermark ?? '—'}${a.lastFailed?.length ? `, ${a.lastFailed.length} failing` : ''}`
              : 'Archiver workflow ecp-archiver: not running',
          );
        }
      }),
    );

  registerAuditBacktest(audit);
  registerAuditList(audit);
}
