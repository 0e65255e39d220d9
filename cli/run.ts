import type { Command } from 'commander';
import { CliContext, type GlobalOptions } from './context';
import type { ExitCode } from './exitCodes';

/** A command body: gets the context, its own options and its positional arguments; returns the exit code. */
export type CommandBody<O> = (ctx: CliContext, options: O, args: string[]) => Promise<ExitCode | void>;

/**
 * Adapts a command body to a commander action: builds the context from the global options and always closes the
 * Temporal connection afterwards, so the process exits promptly. Errors go to main's handler.
 */
export function action<O>(body: CommandBody<O>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = new CliContext(command.optsWithGlobals<GlobalOptions>());
    try {
      const code = await body(ctx, command.opts<O & object>() as O, args.slice(0, -2) as string[]);
      process.exitCode = code ?? 0;
    } finally {
      await ctx.close();
    }
  };
}

/** Help text with examples, shown after the options. */
export function examples(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}
