import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseDuration } from '../../common/duration';
import { DEFAULT_APPROVAL_DEADLINE } from '../../common/constants';
import type { AdviceView, BacktestReport } from '../../audit/backtest';
import { EXIT } from '../exitCodes';
import { bold, note, print, printJson, table } from '../format';
import { action, examples } from '../run';
import { archiveFor, optionalClient } from './auditSources';

interface BacktestOptions {
  policies: string;
  since?: string;
  until?: string;
  agent?: string;
  action?: string;
  archive?: string;
  offline?: boolean;
  defaultDeadline: string;
  all?: boolean;
  json?: boolean;
  failOnChange?: boolean;
}

const advice = (v: AdviceView) => {
  const req = v.requirements.map((r) => `${r.quorum}×${r.groups.join('|')}/${Math.round(r.deadlineSeconds / 60)}m`).join(', ');
  return `${v.verdict}${req ? ` [${req}]` : ''}${v.policyIds.length ? `\n(${v.policyIds.join(', ')})` : ''}`;
};

export function registerAuditBacktest(audit: Command): void {
  audit
    .command('backtest')
    .description(
      "what a candidate policy bundle would have advised for real attempts (archived and still retained): each attempt's exact proposal in the " +
        'context it pinned (verified facts, directory), compared with the advice it got — allowed ↔ denied ↔ needs approval, and changed approval requirements',
    )
    .requiredOption('--policies <dir>', 'the candidate bundle (*.cedar + schema.cedarschema)')
    .option('--since <time>', 'attempts proposed at or after this (ISO 8601, or an age like 7d)')
    .option('--until <time>', 'attempts proposed before this')
    .option('--agent <id>', "only this agent's attempts")
    .option('--action <type>', 'only attempts of this action type')
    .option(
      '--archive <dir|url>',
      'archive: a folder or a postgres:// URL (default: $ECP_STORE_URL, else $ECP_ARCHIVE_DIR, else <data-dir>/archive)',
    )
    .option('--offline', 'use the archive only (do not contact Temporal)')
    .option('--default-deadline <duration>', 'deadline for candidate approval policies without @deadline', DEFAULT_APPROVAL_DEADLINE)
    .option('--all', 'list unchanged attempts too')
    .option('--json', 'print JSON')
    .option('--fail-on-change', `exit ${EXIT.verificationFailed} when any advice would change (for CI)`)
    .addHelpText(
      'after',
      examples(
        'ecp audit backtest --policies ./policies-next --since 30d',
        'ecp audit backtest --policies ./policies-next --action payments.refund --json --fail-on-change',
      ),
    )
    .action(
      action<BacktestOptions>(async (ctx, o) => {
        const { loadPolicyBundle } = await import('../../policy/bundle');
        const { parseTime } = await import('../../audit/listSources');
        const { backtest } = await import('../../audit/backtest');
        const bundle = loadPolicyBundle(resolve(o.policies), { defaultDeadlineSeconds: parseDuration(o.defaultDeadline) });
        const filter = { agent: o.agent, actionType: o.action, since: parseTime(o.since, 'since'), until: parseTime(o.until, 'until') };
        const archive = await archiveFor(ctx, o.archive);
        const { ecp, notice } = await optionalClient(ctx, o.offline);
        if (notice) note(`ecp: ${notice}`);
        const report = await backtest(bundle, filter, { archive, ecp, notice });
        if (o.json) printJson(report);
        else printReport(report, Boolean(o.all));
        return o.failOnChange && report.changed > 0 ? EXIT.verificationFailed : EXIT.ok;
      }),
    );
}

function printReport(report: BacktestReport, all: boolean): void {
  const rows = all ? report.rows : report.rows.filter((r) => r.change);
  if (rows.length > 0) {
    print(
      table(
        ['attempt', 'agent', 'action', 'resource', 'status', 'recorded advice', 'candidate advice', 'change'],
        rows.map((r) => [
          r.attemptId,
          r.agent,
          r.actionType,
          r.resource,
          r.status,
          advice(r.recorded),
          advice(r.candidate),
          r.change ? bold(r.change) : '—',
        ]),
      ),
    );
  }
  const kinds = Object.entries(report.byKind)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  print(
    `Back-tested ${report.evaluated} attempt(s) against ${report.candidate.dir} (${report.candidate.version.slice(0, 19)}…): ` +
      (report.changed === 0 ? 'no advice would change.' : `${report.changed} would change (${kinds}).`),
  );
  if (report.skipped.length > 0)
    print(`${report.skipped.length} attempt(s) skipped (no advice to compare, or unreadable); --json lists them.`);
}
