/*
 * The `ecp` program (commander): global options, help text and the command modules — without running anything, so
 * tests can build it (cli/main.ts runs it).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { EXIT_CODES_HELP } from './exitCodes';

/**
 * The command modules, in help order, with the top-level commands each registers: a run loads only the module of the
 * command it runs (and all of them for help, or a name none has), so no command pays for loading the others.
 */
export const COMMAND_MODULES: ReadonlyArray<{ commands: readonly string[]; load: () => Promise<(program: Command) => void> }> = [
  { commands: ['propose'], load: async () => (await import('./commands/propose')).registerPropose },
  { commands: ['pending', 'list'], load: async () => (await import('./commands/attempts')).registerAttemptLists },
  { commands: ['show'], load: async () => (await import('./commands/show')).registerShow },
  { commands: ['history'], load: async () => (await import('./commands/history')).registerHistory },
  { commands: ['approve', 'reject', 'override', 'ratify'], load: async () => (await import('./commands/decide')).registerDecide },
  { commands: ['freeze', 'unfreeze'], load: async () => (await import('./commands/freeze')).registerFreeze },
  { commands: ['keys'], load: async () => (await import('./commands/keys')).registerKeys },
  { commands: ['policy'], load: async () => (await import('./commands/policy')).registerPolicy },
  { commands: ['audit'], load: async () => (await import('./commands/audit')).registerAuditCommands },
  { commands: ['console'], load: async () => (await import('./commands/console')).registerConsole },
  { commands: ['mcp'], load: async () => (await import('./commands/mcp')).registerMcp },
];

/** The program's own options that take a value (so the word after one is not the command's name). */
export function optionsTakingValue(program: Command): Set<string> {
  return new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short].filter((f) => f !== undefined)));
}

/**
 * The name of the command `args` (argv without node and the script) runs, if any: its first word that is neither an
 * option nor the value of one of `withValue`.
 */
export function commandNameIn(args: readonly string[], withValue: ReadonlySet<string>): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (withValue.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * The program with the commands `argv` may run registered: every command when none is named or the name is unknown
 * (help, commander's suggestions), none for `--version`.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  const program = new Command('ecp')
    .description('ECP — the execution control plane for AI agents: propose actions, see what waits for you, decide, inspect records')
    .version(version)
    .option('--config <file>', 'plane configuration (default: $ECP_CONFIG, else <data-dir>/demo/ecp.yaml if it exists)')
    .option('--data-dir <dir>', 'data directory (default: $ECP_DATA_DIR, else ./.ecp-data)')
    .option('--keys-dir <dir>', "humans' private keys (default: $ECP_KEYS_DIR, else <data-dir>/keys)")
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`ecp: ${text.replace(/^error: /, '')}`) })
    .addHelpText(
      'after',
      `
Temporal connection: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE, TEMPORAL_TLS_CERT/KEY/CA,
TEMPORAL_TLS_SERVER_NAME, TEMPORAL_API_KEY.
Payload keys (encrypted histories): ecp.yaml's payloadEncryption section, else ECP_PAYLOAD_KEYS=id:base64,…
with ECP_PAYLOAD_ACTIVE_KEY.

${EXIT_CODES_HELP}

Walkthrough (with \`npm start\` running):
  $ ecp propose --agent refund-bot --action payments.refund --resource order-1001 \\
      --params '{"orderId":"order-1001","amount":7500,"reason":"damaged in transit"}' --justification "Photos of the damage"
  $ ecp pending --as alice
  $ ecp show <attempt>
  $ ecp approve <attempt> --as alice`,
    );
  const args = argv.slice(2);
  const name = commandNameIn(args, optionsTakingValue(program));
  // `ecp --version` runs no command at all.
  if (name === undefined && (args.includes('--version') || args.includes('-V'))) return program;
  const named = COMMAND_MODULES.filter((m) => name !== undefined && m.commands.includes(name));
  const register = await Promise.all((named.length > 0 ? named : COMMAND_MODULES).map((m) => m.load()));
  for (const r of register) r(program);
  return program;
}
