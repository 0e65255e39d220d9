import type { Command } from 'commander';
import type { Verdict } from '../../common/decision';
import { loadHumanKey } from '../../client/keys';
import type { CliContext } from '../context';
import { EXIT } from '../exitCodes';
import { note, print, printJson } from '../format';
import { action, examples } from '../run';

interface DecideCliOptions {
  as: string;
  reason?: string;
  hash?: string;
  signal?: boolean;
  print?: boolean;
  json?: boolean;
}

export function registerDecide(program: Command): void {
  for (const verdict of ['approve', 'reject'] as const) {
    const command = program
      .command(verdict)
      .description(
        verdict === 'approve'
          ? 'approve an attempt, signed with <keys-dir>/<human>.key; binds to the proposal hash it was shown'
          : 'reject an attempt (a reason is required), signed with <keys-dir>/<human>.key',
      )
      .argument('<attempt>', 'the attempt ID')
      .requiredOption('--as <human>', 'who decides (their private key signs the decision)');
    if (verdict === 'approve') command.option('--reason <text>', 'why (kept in the record)');
    else command.requiredOption('--reason <text>', 'why (kept in the record)');
    command
      .option('--hash <proposalHash>', 'the proposal hash you reviewed; refused if the attempt has a different one')
      .option('--signal', 'send the fire-and-forget `decision` signal instead of the `decide` update (no answer)')
      .option('--print', 'print the signed decision as one line of JSON instead of sending it')
      .option('--json', 'print the answer as JSON')
      .addHelpText(
        'after',
        verdict === 'approve'
          ? examples(
              'ecp approve att-… --as alice --reason "photos check out"',
              'temporal workflow signal --workflow-id att-… --name decision --input "$(ecp approve att-… --as alice --print)"',
            )
          : examples('ecp reject att-… --as alice --reason "order was already refunded"'),
      )
      .action(action<DecideCliOptions>((ctx, o, [attemptId]) => decide(ctx, verdict, attemptId!, o)));
  }
}

async function decide(ctx: CliContext, verdict: Verdict, attemptId: string, o: DecideCliOptions) {
  const privateKey = loadHumanKey(ctx.keysDir, o.as);
  const ecp = await ctx.client({ withConfig: false });
  const options = { human: o.as, verdict, reason: o.reason, privateKey, expectedProposalHash: o.hash, viaSignal: o.signal };
  if (o.print) {
    print(JSON.stringify(await ecp.prepareDecision(attemptId, options)));
    return;
  }
  const result = await ecp.decide(attemptId, options);
  if (o.json) printJson(result);
  if (!result.accepted) {
    note(`ecp: refused (${result.code}): ${result.message}`);
    return EXIT.refused;
  }
  if (o.json) return;
  if (o.signal) print(`sent ${verdict} as a signal; \`ecp show ${attemptId}\` tells whether it counted`);
  else print(`accepted: ${result.message}; \`ecp show ${attemptId}\` follows it`);
}
