import type { Command } from 'commander';
import { EcpError } from '../../common/errors';
import { describeScope, type ControlsLogEntry, type FreezeScope } from '../../common/freeze';
import { loadHumanKey } from '../../client/keys';
import type { CliContext } from '../context';
import { print, printJson, table } from '../format';
import { action, examples } from '../run';

interface FreezeCliOptions {
  agent?: string;
  actionType?: string;
  all?: boolean;
  reason?: string;
  as?: string;
  list?: boolean;
  print?: boolean;
  json?: boolean;
}

/** `ecp freeze` and `ecp unfreeze`: the kill switch (docs/kill-switch-and-notifications.md). */
export function registerFreeze(program: Command): void {
  for (const op of ['freeze', 'unfreeze'] as const) {
    const command = program
      .command(op)
      .description(
        op === 'freeze'
          ? 'kill switch: stop new and waiting attempts of an agent, an action type or everything (signed; the freeze group only)'
          : 'lift a freeze (signed; the freeze group only)',
      )
      .option('--agent <agent>', `${op} one agent`)
      .option('--action-type <type>', `${op} one action type`)
      .option('--all', `${op} everything`)
      .option('--reason <text>', 'why (kept in the freeze log, cited in every denial)')
      .option('--as <human>', 'who signs (a member of ecp.yaml controls.freezeGroup; key <keys-dir>/<human>.key)')
      .option('--print', 'print the signed statement as one line of JSON instead of sending it')
      .option('--json', 'print the answer as JSON');
    if (op === 'freeze') command.option('--list', 'list the freezes in force and the recent freeze log (who, when, why)');
    command
      .addHelpText(
        'after',
        op === 'freeze'
          ? examples(
              'ecp freeze --agent support-bot --reason "refund loop, INC-4711" --as carol',
              'ecp freeze --all --reason "incident 4711" --as carol',
              'ecp freeze --list',
            )
          : examples('ecp unfreeze --agent support-bot --reason "fixed in agent 1.4.2" --as carol'),
      )
      .action(action<FreezeCliOptions>((ctx, o) => (o.list ? list(ctx, o) : change(ctx, op, o))));
  }
}

function scopeOf(o: FreezeCliOptions): FreezeScope {
  const given = [o.agent !== undefined, o.actionType !== undefined, o.all === true].filter(Boolean).length;
  if (given !== 1) throw new EcpError('invalid_input', 'name exactly one scope: --agent <agent>, --action-type <type> or --all', 'scope');
  if (o.agent !== undefined) return { kind: 'agent', agent: o.agent };
  if (o.actionType !== undefined) return { kind: 'actionType', actionType: o.actionType };
  return { kind: 'all' };
}

async function change(ctx: CliContext, op: 'freeze' | 'unfreeze', o: FreezeCliOptions) {
  const scope = scopeOf(o);
  if (!o.reason?.trim())
    throw new EcpError('invalid_input', '--reason is required: it is kept in the freeze log and cited in denials', 'reason');
  if (!o.as) throw new EcpError('invalid_input', '--as <human> is required: the freeze is signed with their key', 'as');
  const { signFreeze, sendControl } = await import('../../client/controls');
  let signed;
  try {
    signed = signFreeze({ op, scope, reason: o.reason, human: o.as }, loadHumanKey(ctx.keysDir, o.as));
  } catch (err) {
    if ((err as Error).name === 'ZodError') throw new EcpError('invalid_input', `invalid ${op}: ${(err as Error).message}`);
    throw err;
  }
  if (o.print) return print(JSON.stringify(signed));
  const ecp = await ctx.client({ withConfig: false });
  const entry = await sendControl(ecp.client, signed);
  if (o.json) return printJson(entry);
  print(
    op === 'freeze'
      ? `FROZEN: ${describeScope(entry.scope)} (log entry ${entry.seq}, ${entry.at}); new attempts are DENIED and waiting ones re-check now`
      : `unfrozen: ${describeScope(entry.scope)} (log entry ${entry.seq}, ${entry.at})`,
  );
}

async function list(ctx: CliContext, o: FreezeCliOptions) {
  const { readControls } = await import('../../client/controls');
  const ecp = await ctx.client({ withConfig: false });
  const state = await readControls(ecp.client);
  if (o.json) return printJson(state);
  const row = (e: ControlsLogEntry | (Omit<ControlsLogEntry, 'op'> & { op?: string })) => [
    e.seq,
    e.op ?? 'freeze',
    describeScope(e.scope),
    e.human,
    e.at,
    e.reason,
  ];
  print(
    state.freezes.length === 0
      ? 'no freezes in force'
      : `freezes in force:\n${table(['#', 'op', 'scope', 'by', 'at', 'reason'], state.freezes.map(row))}`,
  );
  if (state.log.length > 0)
    print(`\nfreeze log (latest ${state.log.length}):\n${table(['#', 'op', 'scope', 'by', 'at', 'reason'], state.log.map(row))}`);
}
