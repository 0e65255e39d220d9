/**
 * `ecp` — the command line for agents, approvers and operators. Run it as `npx ecp …` (bin/ecp.mjs) or
 * `npm run ecp -- …`. Talks to Temporal as configured by TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TLS env vars.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EcpError } from '../common/errors';
import { registerAttemptLists } from './commands/attempts';
import { registerAuditCommands } from './commands/audit';
import { registerConsole } from './commands/console';
import { registerDecide } from './commands/decide';
import { registerFreeze } from './commands/freeze';
import { registerHistory } from './commands/history';
import { registerKeys } from './commands/keys';
import { registerMcp } from './commands/mcp';
import { registerPolicy } from './commands/policy';
import { registerPropose } from './commands/propose';
import { registerShow } from './commands/show';
import { EXIT, EXIT_CODES_HELP, exitCodeForEcpError, type ExitCode } from './exitCodes';

export function buildProgram(): Command {
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
  registerPropose(program);
  registerAttemptLists(program);
  registerShow(program);
  registerHistory(program);
  registerDecide(program);
  registerFreeze(program);
  registerKeys(program);
  registerPolicy(program);
  registerAuditCommands(program);
  registerConsole(program);
  registerMcp(program);
  return program;
}

/** Maps any error to an exit code and a one-line message (a stack only for the unexpected, with ECP_DEBUG). */
export function reportError(err: unknown): ExitCode {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return EXIT.ok;
    return EXIT.invalidInput; // commander already printed the message
  }
  if (err instanceof EcpError) {
    process.stderr.write(`ecp: ${err.message}\n`);
    return exitCodeForEcpError(err.code);
  }
  const e = err as { name?: string; message?: string; code?: unknown; cause?: { code?: unknown }; stack?: string };
  if (e?.name === 'WorkflowNotFoundError') {
    process.stderr.write(`ecp: ${e.message ?? 'no such attempt'}\n`);
    return EXIT.notFound;
  }
  // gRPC UNAVAILABLE (14): Temporal went away mid-command.
  if (e?.code === 14 || e?.cause?.code === 14) {
    process.stderr.write(`ecp: cannot reach Temporal: ${e.message}\n`);
    return EXIT.connection;
  }
  process.stderr.write(`ecp: unexpected error: ${e?.message ?? String(err)}\n`);
  if (process.env.ECP_DEBUG && e?.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('ecp: (set ECP_DEBUG=1 for the stack trace)\n');
  return EXIT.unexpected;
}

/**
 * A reader that stops early (`ecp --help | head`) closes the pipe: end quietly, as Unix tools do, instead of crashing
 * with an unhandled EPIPE. Other stream errors stay fatal.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    // Nobody reads the rest; keep a failure's exit code, otherwise the output was cut short on purpose: success.
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

export async function main(argv: string[] = process.argv): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
  // Everything is closed by now; make sure a stray handle cannot keep the process alive.
  setTimeout(() => process.exit(), 1000).unref();
}

await main();
