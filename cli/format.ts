import Table from 'cli-table3';

/** Colour only for a person at a terminal; never in pipes, files or with NO_COLOR. */
export const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;

const paint = (code: number) => (text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);
export const cyan = paint(36);

const STATUS_COLOURS: Record<string, (text: string) => string> = {
  SUCCEEDED: green,
  AWAITING_DECISION: yellow,
  EXECUTING: cyan,
  EVALUATING: cyan,
  PROPOSED: cyan,
  FAILED: red,
  DENIED: red,
  REJECTED: red,
  EXPIRED: red,
  CANCELLED: dim,
};

export function status(text: string): string {
  return (STATUS_COLOURS[text] ?? ((t: string) => t))(text);
}

/** A table with a header row; no colours unless at a terminal. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head: head.map((h) => bold(h)), style: { head: [], border: [], compact: true } });
  for (const row of rows) t.push(row.map((c) => String(c)));
  return t.toString();
}

/** Two columns of label / value, aligned, without borders. */
export function fields(rows: Array<[string, string]>, indent = '  '): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${indent}${dim(k.padEnd(width))}  ${v.split('\n').join(`\n${indent}${' '.repeat(width + 2)}`)}`).join('\n');
}

export { compact, deadlineText, duration, relative, stamp, when } from '../common/timeFormat';

export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** For a note on stderr that is not an error (so stdout stays clean for pipes). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
