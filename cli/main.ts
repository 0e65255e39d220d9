/**
 * `ecp` — the command line for agents, approvers and operators. Run it as `npx ecp …` (bin/ecp.mjs) or
 * `npm run ecp -- …`. Talks to Temporal as configured by TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE / TLS env vars.
 */
import { CommanderError } from 'commander';
import { EcpError } from '../common/errors';
import { EXIT, exitCodeForEcpError, type ExitCode } from './exitCodes';
import { buildProgram } from './program';

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
    await (await buildProgram(argv)).parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
  // Everything is closed by now; make sure a stray handle cannot keep the process alive.
  setTimeout(() => process.exit(), 1000).unref();
}

await main();
