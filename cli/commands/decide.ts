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
  justification?: string;
  policy?: string[];
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
  program
    .command('override')
    .description(
      'break-glass: override the overridable requirements of an attempt (a justification is required), signed with ' +
        '<keys-dir>/<human>.key; only where policy says @override_by, and the re-check still runs (docs/governance.md)',
    )
    .argument('<attempt>', 'the attempt ID')
    .requiredOption('--as <human>', 'who overrides (a member of the @override_by group; never the agent or its owner)')
    .requiredOption('--justification <text>', 'why this cannot wait (kept in the record, flagged in audit output)')
    .option('--policy <id...>', 'the policy ids to override (default: every overridable requirement not met yet)')
    .option('--hash <proposalHash>', 'the proposal hash you reviewed; refused if the attempt has a different one')
    .option('--print', 'print the signed override as one line of JSON instead of sending it')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', examples('ecp override att-… --as bob --justification "incident 4711: customer locked out"'))
    .action(action<DecideCliOptions>((ctx, o, [attemptId]) => decide(ctx, 'override', attemptId!, { ...o, reason: o.justification })));
  program
    .command('ratify')
    .description('countersign an accepted override within its ratification window (@ratify_by, @ratify_within)')
    .argument('<attempt>', 'the attempt ID')
    .requiredOption('--as <human>', 'who ratifies (a member of the @ratify_by group, not the overrider)')
    .option('--reason <text>', 'why (kept in the record)')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', examples('ecp ratify att-… --as alice --reason "reviewed the incident ticket"'))
    .action(action<DecideCliOptions>((ctx, o, [attemptId]) => decide(ctx, 'ratify', attemptId!, o)));
}

async function decide(ctx: CliContext, verdict: Verdict, attemptId: string, o: DecideCliOptions) {
  const privateKey = loadHumanKey(ctx.keysDir, o.as);
  const ecp = await ctx.client({ withConfig: false });
  const options = {
    human: o.as,
    verdict,
    reason: o.reason,
    privateKey,
    expectedProposalHash: o.hash,
    viaSignal: o.signal,
    overrides: o.policy,
  };
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
  if (verdict === 'override') note(`ecp: OVERRIDDEN — this break-glass override is flagged in the record and audit output`);
  if (o.signal) print(`sent ${verdict} as a signal; \`ecp show ${attemptId}\` tells whether it counted`);
  else print(`accepted: ${result.message}; \`ecp show ${attemptId}\` follows it`);
}
