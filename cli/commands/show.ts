import type { Command } from 'commander';
import { proposalSummary } from '../../client/summaries';
import { print, printJson } from '../format';
import { renderRecord } from '../recordView';
import { summaryConfig } from './attempts';
import { action, examples } from '../run';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('the whole decision context of one attempt: what runs, on whose request, why, who approved, time left')
    .argument('<attempt>', 'the attempt ID')
    .option('--json', 'print the full record as JSON')
    .addHelpText('after', examples('ecp show att-0123456789abcdef0123456789abcdef', 'ecp show att-… --json | jq .decisions'))
    .action(
      action<{ json?: boolean }>(async (ctx, o, [attemptId]) => {
        const ecp = await ctx.client({ withConfig: false });
        const record = await ecp.getRecord(attemptId!);
        if (o.json) return printJson(record);
        // The one-line summary comes from the configuration's action types, when one loads; the record stands without it.
        print(renderRecord(record, Date.now(), proposalSummary(await summaryConfig(ctx), record.proposal)));
      }),
    );
}
