import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * Expected SDK log lines, silenced only where a test provokes them on purpose (a nondeterminism check, a workflow
 * made to fail), so a warning that does reach the output is news. Each expectation names its line precisely and is
 * used up once seen: the SDK may log after the test's own await returns, so a time scope would miss it. Kept on
 * globalThis: the Runtime's logger is installed once per process (setup-temporal.ts) and must see every file's.
 */
interface Expectation {
  pattern: RegExp;
  left: number;
  seen: () => void;
}
const KEY = Symbol.for('ecp.test.expectedLogs');
const expectations = (): Set<Expectation> => ((globalThis as Record<symbol, Set<Expectation> | undefined>)[KEY] ??= new Set());

/** A log line as patterns see it: the message, then the metadata as JSON (errors with their message). */
export function logLineText(message: string, meta?: LogMetadata): string {
  if (!meta) return message;
  try {
    // Errors keep their message out of JSON.stringify; spell them out so a pattern can name the expected failure.
    const plain = (_k: string, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Error ? { name: v.name, message: v.message } : v;
    return `${message} ${JSON.stringify(meta, plain)}`;
  } catch {
    return message;
  }
}

/** The test Runtime's logger: the SDK's default, minus the lines a test said it expects. */
export class TestLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const line = logLineText(message, meta);
    for (const e of expectations()) {
      if (!e.pattern.test(line)) continue;
      if (--e.left <= 0) {
        expectations().delete(e);
        e.seen();
      }
      return;
    }
    super.log(level, message, meta);
  }
}

/**
 * Silences the next `times` SDK log lines matching `pattern` (see logLineText), then stops silencing. `seen`
 * resolves once they were all logged. Name the line precisely (workflow ID, error code) so nothing else is hidden.
 */
export function expectLogLine(pattern: RegExp, times = 1): { seen: Promise<void>; cancel(): void } {
  let seen!: () => void;
  const promise = new Promise<void>((resolve) => (seen = resolve));
  const expectation: Expectation = { pattern, left: times, seen };
  expectations().add(expectation);
  return { seen: promise, cancel: () => void expectations().delete(expectation) };
}
