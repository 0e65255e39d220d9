import type { Command } from 'commander';
import type { ListedAttempt } from '../../audit/listSources';
import { positiveInt } from '../input';
import { note, print, printJson, red, status, table } from '../format';
import { action, examples } from '../run';
import { archiveFor, optionalClient } from './auditSources';

interface ListOptions {
  agent?: string;
  action?: string;
  status?: string;
  approver?: string;
  overridden?: boolean;
  since?: string;
  until?: string;
  archive?: string;
  offline?: boolean;
  limit: string;
  json?: boolean;
  jsonl?: boolean;
}

export function registerAuditList(audit: Command): void {
  audit
    .command('list')
    .description(
      'attempts in the archive and in Temporal (merged; `source` says where each was found), newest first — for auditors and SIEM ingestion',
    )
    .option('--agent <id>', 'proposed by this agent')
    .option('--action <type>', 'of this action type')
    .option('--status <status>', 'with this status (SUCCEEDED, FAILED, DENIED, REJECTED, EXPIRED, CANCELLED, AWAITING_DECISION …)')
    .option('--approver <human>', 'approved (an accepted approve decision) by this human')
    .option('--overridden', 'only attempts with an accepted break-glass override (flagged OVERRIDDEN)')
    .option('--since <time>', 'proposed at or after this (ISO 8601, or an age like 24h, 7d)')
    .option('--until <time>', 'proposed before this')
    .option('--archive <dir>', 'archive directory (default: $ECP_ARCHIVE_DIR, else <data-dir>/archive)')
    .option('--offline', 'the archive only (do not contact Temporal)')
    .option('--limit <n>', 'at most this many', '500')
    .option('--json', 'print a JSON array')
    .option('--jsonl', 'print JSON Lines, one attempt per line (SIEM ingestion)')
    .addHelpText(
      'after',
      examples('ecp audit list --approver alice --since 7d', 'ecp audit list --status DENIED --jsonl >> siem/ecp.jsonl'),
    )
    .action(
      action<ListOptions>(async (ctx, o) => {
        const { listArchived, listRetained, mergeListings, parseStatus, parseTime } = await import('../../audit/listSources');
        const limit = positiveInt(o.limit, 'limit');
        const filter = {
          agent: o.agent,
          actionType: o.action,
          status: parseStatus(o.status),
          approver: o.approver,
          overridden: o.overridden,
          since: parseTime(o.since, 'since'),
          until: parseTime(o.until, 'until'),
        };
        const archive = await archiveFor(ctx, o.archive);
        const archived = await listArchived(archive, filter);
        const { ecp, notice } = await optionalClient(ctx, o.offline);
        if (notice) note(`ecp: ${notice}`);
        const retained = ecp ? await listRetained(ecp, filter, { limit, archived: new Map(archived.map((a) => [a.attemptId, a])) }) : [];
        const rows = mergeListings(
          archived,
          retained.map(({ record: _r, ...rest }) => rest),
        ).slice(0, limit);
        if (o.jsonl) {
          for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
          return;
        }
        if (o.json) return printJson(rows);
        if (rows.length === 0) return print('No attempts match.');
        print(table(['attempt', 'status', 'agent', 'action', 'resource', 'approved by', 'proposed', 'source'], rows.map(row)));
      }),
    );
}

function row(a: ListedAttempt): string[] {
  const approvers =
    a.decisions === null
      ? '?'
      : a.decisions
          .filter((d) => d.verdict === 'approve')
          .map((d) => d.human)
          .join(', ') || '—';
  const overriders = (a.decisions ?? []).filter((d) => d.verdict === 'override').map((d) => d.human);
  return [
    a.attemptId,
    status(a.status),
    a.agent ?? '—',
    a.actionType ?? '—',
    a.resource ?? '—',
    overriders.length > 0 ? `${red(`OVERRIDDEN by ${overriders.join(', ')}`)}${approvers === '—' ? '' : `; ${approvers}`}` : approvers,
    a.startedAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '—',
    a.source,
  ];
}
