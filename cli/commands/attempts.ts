import type { Command } from 'commander';
import type { AttemptStatus } from '../../common/record';
import type { AttemptSummary } from '../../client/ecpClient';
import type { ActionTypeConfig } from '../../config/schema';
import { positiveInt } from '../input';
import { note, print, printJson, relative, status, table } from '../format';
import { action, examples } from '../run';
import type { CliContext } from '../context';

interface PendingOptions {
  as?: string;
  json?: boolean;
}

interface ListOptions {
  status?: string;
  agent?: string;
  action?: string;
  limit: string;
  json?: boolean;
}

/**
 * The action types for one-line summaries: only `ecp.yaml` and its action types are read (no policy bundle), and a
 * configuration that does not load costs the summaries (with a note on stderr), never the command.
 */
export async function summaryConfig(ctx: CliContext): Promise<{ actionTypes: Record<string, ActionTypeConfig> } | undefined> {
  if (!ctx.configPath) return undefined;
  const { loadActionTypes } = await import('../../config/actionTypes');
  try {
    return loadActionTypes(ctx.configPath);
  } catch (err) {
    note(`ecp: no summaries: ${(err as Error).message}`);
    return undefined;
  }
}

export function registerAttemptLists(program: Command): void {
  program
    .command('pending')
    .description('attempts awaiting a decision, soonest deadline first')
    .option('--as <human>', 'only what this human may decide (a required group they are in, not an agent they own)')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ecp pending --as alice', 'ecp pending --json'))
    .action(
      action<PendingOptions>(async (ctx, o) => {
        // Only --as needs the directory (group membership, agent owners); not the policies.
        if (o.as) await ctx.configWithoutPolicies('pending --as');
        const ecp = await ctx.client({ withConfig: Boolean(o.as) });
        const listed = await ecp.listPending(o.as ? { human: o.as } : {});
        const { SummaryReader } = await import('../../client/summaries');
        const { EscalationMarks } = await import('../../api/escalations');
        // Escalated rows read apart from those merely awaiting, as in the console's inbox.
        const pending = await new EscalationMarks().mark(ecp, await new SummaryReader().summarize(ecp, listed, await summaryConfig(ctx)));
        if (o.json) return printJson(pending);
        if (pending.length === 0) {
          print(o.as ? `Nothing awaits a decision by ${o.as}.` : 'Nothing awaits a decision.');
          return;
        }
        print(
          table(
            ['attempt', 'summary', 'agent', 'action', 'resource', 'awaiting', 'deadline'],
            pending.map((a) => [
              a.attemptId,
              a.summary ?? '—',
              a.agent ?? '—',
              a.actionType ?? '—',
              a.resource ?? '—',
              (a.awaitingGroups.join(', ') || '—') + (a.escalatedTo.length ? ` (escalated to ${a.escalatedTo.join(', ')})` : ''),
              relative(a.deadline),
            ]),
          ),
        );
        print(`Decide with: ecp show <attempt>, then ecp approve|reject <attempt> --as ${o.as ?? '<human>'}`);
      }),
    );

  program
    .command('list')
    .description('attempts, newest first, filtered by status, agent or action type')
    .option('--status <status>', 'e.g. AWAITING_DECISION, SUCCEEDED, REJECTED, EXPIRED')
    .option('--agent <id>', 'only attempts proposed by this agent')
    .option('--action <type>', 'only attempts of this action type')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .addHelpText('after', examples('ecp list --status SUCCEEDED --agent refund-bot --limit 10'))
    .action(
      action<ListOptions>(async (ctx, o) => {
        const limit = positiveInt(o.limit, 'limit');
        const ecp = await ctx.client({ withConfig: false });
        const list = await ecp.listAttempts(
          { status: o.status?.toUpperCase() as AttemptStatus | undefined, agent: o.agent, actionType: o.action },
          limit,
        );
        if (o.json) return printJson(list);
        if (list.length === 0) return print('No attempts match.');
        print(table(['attempt', 'status', 'agent', 'action', 'resource', 'started', 'closed'], list.map(row)));
      }),
    );
}

function row(a: AttemptSummary): string[] {
  return [
    a.attemptId,
    status(a.status),
    a.agent ?? '—',
    a.actionType ?? '—',
    a.resource ?? '—',
    relative(a.startedAt),
    a.closedAt ? relative(a.closedAt) : '—',
  ];
}
